// Dispatch: answers one request body against the store, appending the framed
// reply to an output buffer. It owns the per-connection parser and scratch
// space, so the steady state allocates nothing per request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "shmkv/request.hpp"
#include "shmkv/scoreboard.hpp"
#include "shmkv/store.hpp"

namespace shmkv::dispatch {

class Dispatcher {
 public:
  // max_message bounds the size of a KEYS reply, as PROTOCOL.md asks.
  Dispatcher(store::Store& store, scoreboard::Scoreboard& board, std::size_t max_message)
      : store_(store), board_(board), max_message_(max_message) {}

  // handle answers the request in body (followed by simdjson::SIMDJSON_PADDING
  // readable bytes, counted in capacity) and appends the reply, framed with
  // version, to out. Every outcome, bad input included, is a reply.
  void handle(std::int32_t version, const char* body, std::size_t length, std::size_t capacity,
              std::string& out);

 private:
  void keys(std::int32_t version, const request::Request& req, std::string& out);
  void stats(std::int32_t version, std::string& out);

  store::Store& store_;
  scoreboard::Scoreboard& board_;
  const std::size_t max_message_;
  request::Parser parser_;
  std::string value_;  // scratch copy of a value read from the store
  store::Page page_;   // scratch page of a KEYS scan
};

}  // namespace shmkv::dispatch
