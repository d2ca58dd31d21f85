#include "shmkv/dispatch.hpp"

#include <unistd.h>

#include <ctime>

#include "shmkv/frame.hpp"
#include "shmkv/log.hpp"
#include "shmkv/reply.hpp"

namespace shmkv::dispatch {

void Dispatcher::handle(std::int32_t version, const char* body, std::size_t length, std::size_t capacity,
                        std::string& out) {
  board_.requests_total.fetch_add(1, std::memory_order_relaxed);
  request::Request req;
  if (Status s = parser_.parse(body, length, capacity, &req); !s) {
    log::debug("bad request: {}", s.message());
    reply::error(out, version, s.message());
    return;
  }
  switch (req.func) {
    case request::Func::kGet: {
      Status s = store_.get(req.key, &value_);
      if (s.is_ok()) {
        const std::string_view value(value_);
        reply::get(out, version, req.key, &value);
      } else if (s.is_not_found()) {
        reply::get(out, version, req.key, nullptr);
      } else {
        log::error("GET: {}", s.message());
        reply::error(out, version, s.message());
      }
      log::debug("GET {} -> {}", req.key, s.is_ok() ? "found" : s.message());
      return;
    }
    case request::Func::kPut: {
      Status s = store_.put(req.key, req.value);
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
      return;
    }
    case request::Func::kDelete: {
      Status s = store_.del(req.key);
      if (s.is_ok() || s.is_not_found()) {
        reply::del(out, version, req.key, s.is_ok());
      } else {
        log::error("DELETE: {}", s.message());
        reply::error(out, version, s.message());
      }
      log::debug("DELETE {} -> {}", req.key, s.is_ok() ? "ok" : s.message());
      return;
    }
    case request::Func::kKeys:
      keys(version, req, out);
      return;
    case request::Func::kStats:
      stats(version, out);
      return;
    case request::Func::kUnknown:
      log::debug("unknown function {}", req.func_name);
      reply::unknown_function(out, version, req.func_name);
      return;
  }
}

void Dispatcher::stats(std::int32_t version, std::string& out) {
  const store::Counts counts = store_.counts();
  reply::Stats s;
  s.keys = counts.keys;
  s.store_bytes = counts.store_bytes;
  s.store_free_bytes = counts.free_bytes;
  s.connections_active = board_.count(scoreboard::State::kBusy);
  s.connections_total = board_.connections_total.load();
  s.requests_total = board_.requests_total.load();
  s.uptime_seconds = std::time(nullptr) - board_.started;
  s.pid = board_.daemon_pid;
  s.worker_pid = getpid();
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
    if (Status s = store_.scan(req.prefix, after, limit, max_message_, &page_); !s) {
      log::error("KEYS: {}", s.message());
      reply::error(out, version, s.message());
      return;
    }
    reply::keys(out, version, page_.keys, page_.more);
    const std::size_t body = out.size() - mark - frame::kHeaderSize;
    if (body <= max_message_ || page_.keys.size() <= 1) break;
    out.resize(mark);
    limit = page_.keys.size() / 2;
  }
  log::debug("KEYS prefix {} -> {} keys{}", req.prefix, page_.keys.size(), page_.more ? ", more" : "");
}

}  // namespace shmkv::dispatch
