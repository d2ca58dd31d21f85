#include "daemon/dispatch.hpp"

#include <unistd.h>

#include <ctime>

#include <fmt/format.h>

#include "protocol/frame.hpp"
#include "common/log.hpp"
#include "protocol/reply.hpp"
#include "resp/value_mapping.hpp"

namespace shmkv::dispatch {

void Dispatcher::handle(const Message* messages, std::size_t count, std::string& out) {
  for (std::size_t i = 0; i < count; ++i) {
    const Message& m = messages[i];
    request::Request req;
    const Status s = prepare(m, &req);
    // Every reply but a GET's answers the GETs held back first, in order.
    if (!s || req.func != request::Func::kGet) flush_gets(out);
    if (!s) reply::error(out, m.version, s.message());
    else execute(m.version, req, out);
  }
  flush_gets(out);
}

Status Dispatcher::prepare(const Message& m, request::Request* req) {
  (config_.slot ? config_.slot->requests : board_.requests_total).fetch_add(1, std::memory_order_relaxed);
  if (Status s = parser_.parse(m.body, m.length, m.capacity, req); !s) {
    log::debug("bad request: {}", s.message());
    return s;
  }
  // A store that recovery could not rebuild is not served: say why, rather
  // than answer from data that may be wrong.
  if (req->func != request::Func::kUnknown && req->func != request::Func::kStats &&
      board_.health.load() != scoreboard::Health::kOk) {
    return Status::server(board_.health.load() == scoreboard::Health::kFailed
                              ? fmt::format("store unavailable: recovery failed: {}", board_.failure)
                              : std::string("store unavailable: recovering from a crashed worker; retry"));
  }
  return Status::ok();
}

void Dispatcher::execute(std::int32_t version, const request::Request& req, std::string& out) {
  switch (req.func) {
    case request::Func::kGet: return queue_get(version, req.key, out);  // answered by flush_gets
    case request::Func::kPut: return put(version, req, out);
    case request::Func::kDelete: return del(version, req, out);
    case request::Func::kKeys: return keys(version, req, out);
    case request::Func::kStats: return stats(version, out);
    case request::Func::kDebug: return debug(version, req, out);
    case request::Func::kUnknown:
      log::debug("unknown function {}", req.func_name);
      reply::unknown_function(out, version, req.func_name);
      return;
  }
}

void Dispatcher::queue_get(std::int32_t version, std::string_view key, std::string& out) {
  if (queued_ == kMaxQueuedGets) flush_gets(out);
  if (queued_ == lookups_.size()) {  // grows to the longest run seen, then stays
    lookups_.emplace_back();
    queued_keys_.emplace_back();
    queued_versions_.emplace_back();
  }
  queued_keys_[queued_].assign(key);
  queued_versions_[queued_] = version;
  ++queued_;
}

void Dispatcher::flush_gets(std::string& out) {
  if (queued_ == 0) return;
  for (std::size_t i = 0; i < queued_; ++i) lookups_[i].key = queued_keys_[i];
  Status s;
  {
    InStore in_store(config_.slot);
    s = store_.get_many(lookups_.data(), queued_);
  }
  for (std::size_t i = 0; i < queued_; ++i) {
    const store::Store::Lookup& l = lookups_[i];
    if (!s) {
      log::error("GET: {}", s.message());
      reply::error(out, queued_versions_[i], s.message());
      continue;
    }
    // A value written over RESP that JSON cannot carry (shmkv-protocol(7),
    // RESP values).
    if (l.found && resp::value_mapping::is_binary(l.value)) {
      reply::error(out, queued_versions_[i], fmt::format("value of {} is binary: read it over RESP", l.key));
      continue;
    }
    const std::string_view value(l.value);
    reply::get(out, queued_versions_[i], l.key, l.found ? &value : nullptr);
    log::debug("GET {} -> {}", l.key, l.found ? "found" : "not found");
  }
  for (std::size_t i = 0; i < queued_; ++i) {
    if (lookups_[i].value.capacity() > kScratchKept) std::string().swap(lookups_[i].value);
    if (queued_keys_[i].capacity() > kScratchKept) std::string().swap(queued_keys_[i]);
  }
  queued_ = 0;
}

void Dispatcher::put(std::int32_t version, const request::Request& req, std::string& out) {
  Status s;
  {
    InStore in_store(config_.slot);
    s = store_.put(req.key, req.value);
  }
  if (s.is_ok()) {
    reply::put(out, version, req.key);
  } else {
    if (s.code() == Status::Code::kFull)
      log::warning("PUT {}: store is full", req.key);
    else
      log::error("PUT: {}", s.message());
    reply::error(out, version, s.message());
  }
  log::debug("PUT {} ({} bytes) -> {}", req.key, req.value.size(), s.is_ok() ? "ok" : s.message());
}

void Dispatcher::del(std::int32_t version, const request::Request& req, std::string& out) {
  Status s;
  {
    InStore in_store(config_.slot);
    s = store_.del(req.key);
  }
  if (s.is_ok() || s.is_not_found()) {
    reply::del(out, version, req.key, s.is_ok());
  } else {
    log::error("DELETE: {}", s.message());
    reply::error(out, version, s.message());
  }
  log::debug("DELETE {} -> {}", req.key, s.is_ok() ? "ok" : s.message());
}

// debug runs a test hook (--debug-commands only): hold the store lock, or die
// holding it, as a worker killed by the OOM killer in the store would.
void Dispatcher::debug(std::int32_t version, const request::Request& req, std::string& out) {
  InStore in_store(config_.slot);
  if (req.crash_in_store) {
    log::warning("DEBUG: aborting in the store, as asked");
    store_.debug_crash_in_store();
  }
  log::warning("DEBUG: holding the store lock for {} ms, as asked", req.hold_lock_ms);
  if (Status s = store_.debug_hold_lock(req.hold_lock_ms); !s) {
    reply::error(out, version, s.message());
    return;
  }
  reply::debug(out, version);
}

void Dispatcher::stats(std::int32_t version, std::string& out) {
  store::Counts counts;
  {
    InStore in_store(config_.slot);
    counts = store_.counts();
  }
  reply::Stats s;
  s.keys = counts.keys;
  s.store_bytes = counts.store_bytes;
  s.store_free_bytes = counts.free_bytes;
  s.connections_active = board_.active();
  s.connections_total = board_.connections_total.load();
  s.requests_total = board_.requests();
  s.uptime_seconds = std::time(nullptr) - board_.started;
  s.pid = board_.daemon_pid;
  s.worker_pid = getpid();
  s.recoveries = board_.recoveries.load();
  s.last_recovery = board_.last_recovery.load();
  switch (board_.health.load()) {
    case scoreboard::Health::kOk: s.store_status = "ok"; break;
    case scoreboard::Health::kRecovering: s.store_status = "recovering"; break;
    case scoreboard::Health::kFailed: s.store_status = fmt::format("failed: {}", board_.failure); break;
  }
  reply::stats(out, version, s);
  log::debug("STATS");
}

// keys answers KEYS with one page of keys. A page whose reply would exceed
// the maximum message size is halved until it fits (one key always goes out),
// and then says more, so the client pages on from its last key.
void Dispatcher::keys(std::int32_t version, const request::Request& req, std::string& out) {
  std::size_t limit = req.limit;
  const std::string_view* after = req.has_after ? &req.after : nullptr;
  for (;;) {
    const std::size_t mark = out.size();
    Status s;
    {
      InStore in_store(config_.slot);
      s = store_.scan(req.prefix, after, limit, config_.max_message, &page_);
    }
    if (!s) {
      log::error("KEYS: {}", s.message());
      reply::error(out, version, s.message());
      return;
    }
    reply::keys(out, version, page_.keys, page_.more);
    const std::size_t body = out.size() - mark - frame::kHeaderSize;
    if (body <= config_.max_message || page_.keys.size() <= 1) break;
    out.resize(mark);
    limit = page_.keys.size() / 2;
  }
  log::debug("KEYS prefix {} -> {} keys{}", req.prefix, page_.keys.size(), page_.more ? ", more" : "");
}

}  // namespace shmkv::dispatch
