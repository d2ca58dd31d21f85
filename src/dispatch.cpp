#include "shmkv/dispatch.hpp"

#include "shmkv/log.hpp"
#include "shmkv/reply.hpp"

namespace shmkv::dispatch {

void Dispatcher::handle(std::int32_t version, const char* body, std::size_t length, std::size_t capacity,
                        std::string& out) {
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
    case request::Func::kUnknown:
      log::debug("unknown function {}", req.func_name);
      reply::unknown_function(out, version, req.func_name);
      return;
  }
}

}  // namespace shmkv::dispatch
