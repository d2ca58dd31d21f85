// Dispatch: answers request bodies against the store, appending the framed
// replies to an output buffer in order. It owns the per-connection parser and
// scratch space, so the steady state allocates nothing per request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/request.hpp"
#include "daemon/scoreboard.hpp"
#include "store/store.hpp"

namespace shmkv::dispatch {

// Message is one framed request: its body is followed by
// json::kPadding readable bytes, counted in capacity.
struct Message {
  std::int32_t version;
  const char* body;
  std::size_t length;
  std::size_t capacity;
};

class Dispatcher {
 public:
  struct Config {
    std::size_t max_message = 0;  // bounds a KEYS reply, as shmkv-protocol(7) KEYS says
    bool debug_commands = false;  // answer DEBUG (--debug-commands)
    // The worker's scoreboard slot, marked in-store around every store call
    // so that the parent knows what a death there means; may be null.
    scoreboard::Slot* slot = nullptr;
    // Bytes of replies in out past which handle stops taking messages, so
    // that a client that does not read cannot make the worker buffer without
    // bound. It also bounds a batch of GETs (most answers are at most about
    // max_message): at most reply_limit / max_message GETs, 1 to 64; a batch
    // whose answers outgrow it (set_drain) is sent in parts.
    std::size_t reply_limit = SIZE_MAX;
  };

  Dispatcher(store::Store& store, scoreboard::Scoreboard& board, const Config& config)
      : store_(store), board_(board), config_(config), parser_(config.debug_commands),
        max_queued_gets_(queued_gets_for(config)) {}

  // handle answers the messages, in order, appending each reply, framed with
  // its message's version, to out. Every outcome, bad input included, is a
  // reply. A run of GETs is looked up in one batch (Store::get_many): what a
  // pipelining client gains from one read and one write per batch, it gains
  // from the store too. It stops before a message once out holds
  // config.reply_limit bytes or more, and returns how many it answered (at
  // least one when out was empty): the caller sends out, then hands over the
  // rest.
  std::size_t handle(const Message* messages, std::size_t count, std::string& out);
  void handle(const Message& message, std::string& out) { handle(&message, 1, out); }

  // Drain sends the replies in out and empties it; false when the
  // connection is gone.
  using Drain = std::function<bool()>;
  // set_drain starts a connection: a batch of GETs whose replies outgrow
  // reply_limit (a JSON string of control bytes is six times its value) is
  // sent in parts through drain, so that the worker holds a few times the
  // limit, not a batch's worth. Without drain (tests) out just grows.
  void set_drain(Drain drain) {
    drain_ = std::move(drain);
    lost_ = false;
  }
  // lost says a drain failed: the connection is gone and must be closed.
  bool lost() const { return lost_; }

 private:
  // prepare counts and parses a message and checks that the store can be
  // served; an error says what to reply instead.
  Status prepare(const Message& message, request::Request* req);
  // execute answers a parsed request, or for a GET holds it back.
  void execute(std::int32_t version, const request::Request& req, std::string& out);

  // queue_get holds a GET back for the batch; flush_gets looks up and
  // answers what is held back, in order, before any other reply.
  void queue_get(std::int32_t version, std::string_view key, bool typed, std::string& out);
  void flush_gets(std::string& out);
  void put(std::int32_t version, const request::Request& req, std::string& out);
  void del(std::int32_t version, const request::Request& req, std::string& out);
  void keys(std::int32_t version, const request::Request& req, std::string& out);
  void incr(std::int32_t version, const request::Request& req, std::string& out);
  void expire(std::int32_t version, const request::Request& req, std::string& out);
  void ttl(std::int32_t version, const request::Request& req, std::string& out);
  void stats(std::int32_t version, std::string& out);
  void save(std::int32_t version, std::string& out);
  void debug(std::int32_t version, const request::Request& req, std::string& out);

  using InStore = scoreboard::InStore;

  store::Store& store_;
  scoreboard::Scoreboard& board_;
  const Config config_;
  request::Parser parser_;
  store::Page page_;   // scratch page of a KEYS scan
  std::string quoted_;  // scratch: a bytes value quoted as a JSON string

  // The GETs held back: their versions, and their keys (copies: a key with
  // escapes lives in the parser's scratch, which the next parse reuses).
  static constexpr std::size_t kMaxQueuedGets = 64;
  static std::size_t queued_gets_for(const Config& config) {
    const std::size_t n = config.reply_limit / (config.max_message ? config.max_message : 1);
    return n < 1 ? 1 : n > kMaxQueuedGets ? kMaxQueuedGets : n;
  }
  // Scratch above this size is let go after its batch, so that a batch of
  // big values does not stay with the worker for good.
  static constexpr std::size_t kScratchKept = std::size_t(64) << 10;
  std::vector<store::Store::Lookup> lookups_;
  std::vector<std::string> queued_keys_;
  std::vector<std::int32_t> queued_versions_;
  std::vector<char> queued_typed_;  // GET's params.encoding was "base64"
  std::size_t queued_ = 0;
  const std::size_t max_queued_gets_;  // constant after construction
  Drain drain_;
  bool lost_ = false;
};

}  // namespace shmkv::dispatch
