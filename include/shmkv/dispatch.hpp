// Dispatch: answers one request body against the store, appending the framed
// reply to an output buffer. It owns the per-connection parser and scratch
// space, so the steady state allocates nothing per request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "shmkv/request.hpp"
#include "shmkv/store.hpp"

namespace shmkv::dispatch {

class Dispatcher {
 public:
  explicit Dispatcher(store::Store& store) : store_(store) {}

  // handle answers the request in body (followed by simdjson::SIMDJSON_PADDING
  // readable bytes, counted in capacity) and appends the reply, framed with
  // version, to out. Every outcome, bad input included, is a reply.
  void handle(std::int32_t version, const char* body, std::size_t length, std::size_t capacity,
              std::string& out);

 private:
  store::Store& store_;
  request::Parser parser_;
  std::string value_;  // scratch copy of a value read from the store
};

}  // namespace shmkv::dispatch
