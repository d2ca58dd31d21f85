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
  struct Options {
    std::size_t max_message = 0;  // bounds a KEYS reply, as PROTOCOL.md asks
    bool debug_commands = false;  // answer DEBUG (--debug-commands)
    // The worker's scoreboard slot, marked in-store around every store call
    // so that the parent knows what a death there means; may be null.
    scoreboard::Slot* slot = nullptr;
  };

  Dispatcher(store::Store& store, scoreboard::Scoreboard& board, const Options& options)
      : store_(store), board_(board), options_(options), parser_(options.debug_commands) {}

  // handle answers the request in body (followed by simdjson::SIMDJSON_PADDING
  // readable bytes, counted in capacity) and appends the reply, framed with
  // version, to out. Every outcome, bad input included, is a reply.
  void handle(std::int32_t version, const char* body, std::size_t length, std::size_t capacity,
              std::string& out);

 private:
  void get(std::int32_t version, const request::Request& req, std::string& out);
  void put(std::int32_t version, const request::Request& req, std::string& out);
  void del(std::int32_t version, const request::Request& req, std::string& out);
  void keys(std::int32_t version, const request::Request& req, std::string& out);
  void stats(std::int32_t version, std::string& out);
  void debug(std::int32_t version, const request::Request& req, std::string& out);

  // InStore marks the worker's slot "in the store" for its lifetime.
  class InStore {
   public:
    explicit InStore(scoreboard::Slot* slot) : slot_(slot) {
      if (slot_) slot_->state.store(scoreboard::State::kInStore);
    }
    ~InStore() {
      if (slot_) slot_->state.store(scoreboard::State::kBusy);
    }

   private:
    scoreboard::Slot* slot_;
  };

  store::Store& store_;
  scoreboard::Scoreboard& board_;
  const Options options_;
  request::Parser parser_;
  std::string value_;  // scratch copy of a value read from the store
  store::Page page_;   // scratch page of a KEYS scan
};

}  // namespace shmkv::dispatch
