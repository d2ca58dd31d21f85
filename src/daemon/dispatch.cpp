#include "daemon/dispatch.hpp"

#include <unistd.h>

#include <ctime>

#include <fmt/format.h>

#include "protocol/frame.hpp"
#include "protocol/json.hpp"
#include "common/log.hpp"
#include "protocol/reply.hpp"
#include "daemon/snapshotter.hpp"

namespace shmkv::dispatch {
namespace {

// log_refused logs an operation the store refused. A refusal during a
// recovery is logged at debug level only: the parent logs the recovery once,
// where every request that was waiting for the lock would add a line.
void log_refused(std::string_view operation, const Status& s) {
  if (store::recovering(s))
    log::debug("{}: {}", operation, s.message());
  else
    log::error("{}: {}", operation, s.message());
}

// log_full logs a write that a full store refused, at most 10 times per 10 s in
// a worker (log::Throttle): a client may repeat it as fast as it likes.
void log_full(std::string_view operation, std::string_view key) {
  static log::Throttle throttle;
  throttle.warning("{} {}: store is full", operation, log::excerpt(key));
}

}  // namespace

std::size_t Dispatcher::handle(const Message* messages, std::size_t count, std::string& out) {
  for (std::size_t i = 0; i < count; ++i) {
    if (lost_) return count;  // the connection is gone: nothing more to answer
    if (out.size() >= config_.reply_limit) {
      flush_gets(out);
      return i;
    }
    const Message& m = messages[i];
    request::Request req;
    const Status s = prepare(m, &req);
    // Every reply but a GET's answers the GETs held back first, in order.
    if (!s || req.func != request::Func::kGet) flush_gets(out);
    if (!s) reply::error(out, m.version, s.message());
    else execute(m.version, req, out);
  }
  flush_gets(out);
  return count;
}

Status Dispatcher::prepare(const Message& m, request::Request* req) {
  (config_.slot ? config_.slot->requests : board_.requests_total).fetch_add(1, std::memory_order_relaxed);
  if (Status s = parser_.parse(m.body, m.length, m.capacity, req); !s) {
    log::debug("bad request: {}", s.message());
    return s;
  }
  // A store being rebuilt, or that recovery could not rebuild, is not
  // served: say so, rather than answer from data that may be wrong.
  if (req->func != request::Func::kUnknown && req->func != request::Func::kStats &&
      board_.health.load() != scoreboard::Health::kOk) {
    return Status::server(board_.health.load() == scoreboard::Health::kFailed
                              ? fmt::format("store unavailable: recovery failed: {}", board_.health_detail())
                              : std::string(store::kRecovering));
  }
  return Status::ok();
}

void Dispatcher::execute(std::int32_t version, const request::Request& req, std::string& out) {
  switch (req.func) {
    case request::Func::kGet: return queue_get(version, req.key, req.typed, out);  // answered by flush_gets
    case request::Func::kPut: return put(version, req, out);
    case request::Func::kDelete: return del(version, req, out);
    case request::Func::kKeys: return keys(version, req, out);
    case request::Func::kStats: return stats(version, out);
    case request::Func::kIncr: return incr(version, req, out);
    case request::Func::kExpire: return expire(version, req, out);
    case request::Func::kTtl: return ttl(version, req, out);
    case request::Func::kSave: return save(version, out);
    case request::Func::kDebug: return debug(version, req, out);
    case request::Func::kUnknown:
      log::debug("unknown function {}", req.func_name);
      reply::unknown_function(out, version, req.func_name);
      return;
  }
}

void Dispatcher::queue_get(std::int32_t version, std::string_view key, bool typed, std::string& out) {
  if (queued_ == max_queued_gets_) flush_gets(out);
  if (queued_ == lookups_.size()) {  // grows to the longest run seen, then stays
    lookups_.emplace_back();
    queued_keys_.emplace_back();
    queued_versions_.emplace_back();
    queued_typed_.emplace_back();
  }
  queued_keys_[queued_].assign(key);
  queued_versions_[queued_] = version;
  queued_typed_[queued_] = typed;
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
    // The replies so far go out once they reach the limit (set_drain).
    if (i > 0 && drain_ && out.size() >= config_.reply_limit && !drain_()) {
      lost_ = true;
      break;
    }
    const store::Store::Lookup& l = lookups_[i];
    if (!s) {
      log_refused("GET", s);
      reply::error(out, queued_versions_[i], s.message());
      continue;
    }
    std::string_view value(l.value);
    if (queued_typed_[i]) {
      // Asked for the kind: bytes go as base64 (shmkv-protocol(7), Bytes
      // over JSON), whatever they hold.
      reply::get_typed(out, queued_versions_[i], l.key, l.found ? &value : nullptr,
                       l.kind == store::Kind::kBytes ? reply::Kind::kBytes : reply::Kind::kJson);
      continue;
    }
    if (l.found && l.kind == store::Kind::kBytes) {
      // Bytes (written over RESP) read as a JSON string when they are
      // UTF-8, and are refused otherwise (shmkv-protocol(7), Value kinds).
      if (!json::is_utf8(l.value)) {
        reply::error(out, queued_versions_[i], fmt::format("value of {} is binary: read it over RESP", l.key));
        continue;
      }
      quoted_.clear();
      json::append_quoted_ascii(quoted_, l.value);
      value = quoted_;
    }
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
  bool stored = false;
  store::PutOptions options;
  options.kind = req.value_is_bytes ? store::Kind::kBytes : store::Kind::kJson;
  options.ttl_ms = req.ttl_ms;
  options.condition = req.condition == request::Condition::kIfAbsent    ? store::Condition::kIfAbsent
                      : req.condition == request::Condition::kIfPresent ? store::Condition::kIfPresent
                                                                        : store::Condition::kAlways;
  {
    InStore in_store(config_.slot);
    s = store_.put(req.key, req.value, options, &stored);
  }
  if (s.is_ok()) {
    if (stored) snapshotter::changed(board_);
    reply::put(out, version, req.key, stored);
  } else {
    if (s.code() == Status::Code::kFull)
      log_full("PUT", req.key);
    else
      log_refused("PUT", s);
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
  if (s.is_ok()) snapshotter::changed(board_);
  if (s.is_ok() || s.is_not_found()) {
    reply::del(out, version, req.key, s.is_ok());
  } else {
    log_refused("DELETE", s);
    reply::error(out, version, s.message());
  }
  log::debug("DELETE {} -> {}", req.key, s.is_ok() ? "ok" : s.message());
}

// incr, expire and ttl answer shmkv-protocol(7), EXPIRE and TTL, and INCR. A refused
// INCR (a value that is no integer, an overflow) is the client's error, not
// the store's, and is logged only at debug level.
void Dispatcher::incr(std::int32_t version, const request::Request& req, std::string& out) {
  Status s;
  std::int64_t value = 0;
  {
    InStore in_store(config_.slot);
    s = store_.incr(req.key, req.by, &value);
  }
  if (s.is_ok()) {
    snapshotter::changed(board_);
    reply::incr(out, version, req.key, value);
  } else {
    if (s.code() == Status::Code::kInvalid) log::debug("INCR: {}", s.message());
    else if (s.code() == Status::Code::kFull) log_full("INCR", req.key);
    else log_refused("INCR", s);
    reply::error(out, version, s.message());
  }
}

void Dispatcher::expire(std::int32_t version, const request::Request& req, std::string& out) {
  Status s;
  {
    InStore in_store(config_.slot);
    s = store_.expire(req.key, req.ttl_ms);
  }
  if (s.is_ok() || s.is_not_found()) {
    if (s.is_ok()) snapshotter::changed(board_);
    reply::expire(out, version, req.key, s.is_ok());
  } else {
    if (s.code() == Status::Code::kFull) log_full("EXPIRE", req.key);
    else log_refused("EXPIRE", s);
    reply::error(out, version, s.message());
  }
}

void Dispatcher::ttl(std::int32_t version, const request::Request& req, std::string& out) {
  Status s;
  std::int64_t ms = -1;
  {
    InStore in_store(config_.slot);
    s = store_.ttl(req.key, &ms);
  }
  if (s.is_ok() || s.is_not_found()) {
    reply::ttl(out, version, req.key, s.is_ok() ? ms : -2);
  } else {
    log_refused("TTL", s);
    reply::error(out, version, s.message());
  }
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
  s.keys_with_ttl = counts.keys_with_ttl;
  s.expired_keys_total = counts.expired_total;
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
    case scoreboard::Health::kRecovering: {
      const std::string detail = board_.health_detail();
      s.store_status = detail.empty() ? "recovering" : "recovering: " + detail;
      break;
    }
    case scoreboard::Health::kFailed: s.store_status = fmt::format("failed: {}", board_.health_detail()); break;
  }
  s.last_save = board_.snapshot.last_save.load();
  s.last_save_keys = board_.snapshot.last_save_keys.load();
  s.last_save_ms = board_.snapshot.last_save_ms.load();
  s.changes_since_save = snapshotter::changes_since_save(board_);
  s.snapshot_status = snapshotter::status(board_);
  reply::stats(out, version, s);
  log::debug("STATS");
}

// save answers SAVE once the snapshot is on disk, or with why it is not;
// the previous snapshot is then as it was (shmkv-protocol(7), Snapshots).
void Dispatcher::save(std::int32_t version, std::string& out) {
  if (!snapshotter::enabled(board_)) {
    reply::error(out, version, "SAVE needs a snapshot file: start shmkvd with --snapshot PATH");
    return;
  }
  snapshotter::Saved saved;
  if (Status s = snapshotter::save(store_, board_, config_.slot, &saved); !s) {
    reply::error(out, version, "SAVE failed, the previous snapshot is kept: " + s.message());
    return;
  }
  reply::save(out, version, saved.keys, saved.bytes, saved.ms);
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
      log_refused("KEYS", s);
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
