// The client library: one persistent version-2 connection to shmkvd, over TCP
// or a UNIX socket, with typed calls (get, put, del, keys, stats, incr, expire,
// ttl), a raw call
// for any request, and batches of requests pipelined in one write. Every
// failure is a Status value; nothing here throws or exits. shmkv(1) uses it,
// and so can any program that links build/libshmkv.a.
//
// What the Status of a call means:
//   ok         done.
//   kNotFound  get: the key is absent (or null is stored); del, expire, ttl:
//              it was absent.
//   kInvalid   the arguments were refused before anything was sent: a value
//              that is not one valid JSON value, text that is not UTF-8.
//   kServer    the server answered with an error ({"status": "ERROR"}), or
//              does not know the function.
//   kTimeout   the server did not take a request or answer within timeout_ms.
//   kIo        the connection could not be made, or was lost.
//   kCorrupt   the server broke the protocol: a reply that is not shmkv's.
//   kFull      this process ran out of memory (std::bad_alloc) building a
//              request or reading a reply; the connection is closed.
// After kTimeout, kIo or kCorrupt the connection is closed, and so it is after
// a server error (the server may close its side too); the next call connects
// again. A connection the server closed while it was idle (--idle-timeout) is
// reopened before a call sends anything. A request is never sent twice.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shmkv/status.hpp"

namespace shmkv::client {

// Where the server is. A non-empty socket_path selects a UNIX stream socket,
// and host and port are not used.
struct Endpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 4444;
  std::string socket_path;
  // How long to wait to connect, and then for the server to take a request
  // or to send more of a reply; 0: forever.
  int timeout_ms = 5000;

  // name returns "host:port", or the socket path, for messages.
  std::string name() const;
};

// One page of keys in ascending byte order; more is true when further
// matching keys exist (ask again with the last key as after).
struct KeysPage {
  std::vector<std::string> keys;
  bool more = false;
};

// One STATS member: its name, and its value as JSON text.
struct Stat {
  std::string name;
  std::string value;
};

// PUT's condition and expiry (shmkv-protocol(7), Expiry).
enum class Condition { kAlways, kIfAbsent, kIfPresent };

// kMaxMessage is the largest request or reply handled: the server's largest
// --max-message, with room for the reply's envelope around a value of that size.
inline constexpr std::size_t kMaxMessage = (std::size_t(1) << 30) + (std::size_t(1) << 20);

// The longest expiry, 10 years, in milliseconds.
inline constexpr std::int64_t kMaxTtlMs = std::int64_t(315360000) * 1000;

struct PutOptions {
  std::int64_t ttl_ms = 0;  // 1..kMaxTtlMs, sent as seconds; 0: the key never expires
  Condition condition = Condition::kAlways;
};

// Batch holds requests to send together with Client::run: they go out in one
// write and their replies come back in request order. Adding a request checks
// it as the typed call would; a refused one (kInvalid) is not added.
class Batch {
 public:
  Status get(std::string_view key);
  // get_typed reads a value with its kind (shmkv-protocol(7), Bytes over
  // JSON): see Client::get_typed.
  Status get_typed(std::string_view key);
  Status put(std::string_view key, std::string_view value, const PutOptions& options = {});
  // put_bytes stores bytes (any bytes) as a bytes value, as a RESP SET does.
  Status put_bytes(std::string_view key, std::string_view bytes, const PutOptions& options = {});
  Status del(std::string_view key);
  Status incr(std::string_view key, std::int64_t by);
  Status expire(std::string_view key, std::int64_t ttl_ms);
  Status ttl(std::string_view key);
  Status call(std::string_view func, std::string_view params);

  std::size_t size() const { return entries_.size(); }
  void clear();

 private:
  friend class Client;
  enum class Kind { kGet, kGetTyped, kPut, kDel, kKeys, kStats, kIncr, kExpire, kTtl, kCall };
  struct Entry {
    Kind kind;
    std::string func;
    std::string key;  // for messages; empty for KEYS, STATS and call
  };

  // put_params builds a PUT's params around its value member.
  Status put_params(std::string_view key, std::string_view member, const PutOptions& options);
  // add frames {"func": func, "params": params}; params is trusted JSON text.
  Status add(Kind kind, std::string_view func, std::string_view key, std::string_view params);
  // add_key adds a request whose params are {"obj": key} (GET, DELETE).
  Status add_key(Kind kind, std::string_view func, std::string_view key);

  std::string bytes_;  // the framed requests, in order
  std::vector<Entry> entries_;
};

// Result is the outcome of one request of a batch, as the typed call would
// report it. text holds, for get: the value's JSON text; for get_typed: the
// value's JSON text, or its bytes when bytes is true; for put: "not
// stored" when its condition failed; for incr: the new value; for ttl: the
// seconds left as the server wrote them ("-1": no expiry); for call: the
// whole reply body (also when status is kServer); otherwise nothing.
struct Result {
  Status status;
  std::string text;
  bool bytes = false;  // get_typed: text holds a bytes value's bytes
};

class Client {
 public:
  // connect opens a connection to endpoint; *out is set only on success.
  static Status connect(const Endpoint& endpoint, std::unique_ptr<Client>* out);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // get sets *value to the JSON text of the value under key, as it was
  // stored; kNotFound when the server answers null.
  Status get(std::string_view key, std::string* value);

  // get_typed sets *value to the value under key and *bytes to its kind
  // (shmkv-protocol(7), Bytes over JSON): a bytes value (written over RESP,
  // or by put_bytes), whatever bytes it holds, with *bytes true; a JSON
  // value's text with *bytes false, a stored null included. kNotFound only
  // when the key is absent. A server older than the extension answers
  // without the kind: its JSON values then read as JSON, a null as
  // kNotFound, and a bytes value as the JSON string or error get gives.
  Status get_typed(std::string_view key, std::string* value, bool* bytes);

  // put stores value, which must be exactly one valid JSON value, under key.
  Status put(std::string_view key, std::string_view value);

  // put with options: an expiry, and a condition; *stored says whether the
  // condition held and the value was stored.
  Status put(std::string_view key, std::string_view value, const PutOptions& options, bool* stored);

  // put_bytes stores bytes under key as a bytes value, sent in base64;
  // options and *stored (when given) as for put.
  Status put_bytes(std::string_view key, std::string_view bytes, const PutOptions& options = {},
                   bool* stored = nullptr);

  // incr adds by to the integer under key (0 when absent), atomically, and
  // sets *value to the result; kServer when the value is no integer or the
  // sum leaves signed 64-bit range.
  Status incr(std::string_view key, std::int64_t by, std::int64_t* value);

  // expire makes key expire ttl_ms from now (1..kMaxTtlMs), or never when
  // ttl_ms is 0; kNotFound when key is absent.
  Status expire(std::string_view key, std::int64_t ttl_ms);

  // ttl sets *ms_left to the milliseconds before key expires, -1 when it
  // never does; kNotFound when key is absent.
  Status ttl(std::string_view key, std::int64_t* ms_left);

  // del removes key; kNotFound when it was absent.
  Status del(std::string_view key);

  // keys fetches one page of the keys that start with prefix and sort after
  // *after (from the first when after is empty), at most limit of them (0:
  // the server's default, 1000). A page that breaks those promises (order,
  // prefix, more with no keys) is kCorrupt, so paging always ends.
  Status keys(std::string_view prefix, std::optional<std::string_view> after, int limit, KeysPage* page);

  // stats sets *object to the JSON text of the server's STATS object.
  Status stats(std::string* object);
  // stats sets *stats to its members, in the server's order.
  Status stats(std::vector<Stat>* stats);

  // save has the server write its snapshot now (shmkv-protocol(7),
  // SNAPSHOTS) and, once it is on disk, sets *response to the reply's
  // object: {"response": "ok", "keys": N, "bytes": B, "ms": T}. kServer when
  // the server has no snapshot file or could not write it.
  Status save(std::string* response);

  // call sends {"func": func, "params": params} (params: JSON text) and sets
  // *reply to the reply body; kServer, with *reply set, when its status is
  // not "OK".
  Status call(std::string_view func, std::string_view params, std::string* reply);

  // run sends every request of batch in one write, as far as the socket
  // takes it, and reads their replies in order into *results, one Result
  // each. A refused request fails only its Result. The Status returned is a
  // connection failure; then *results holds the replies that came before it.
  Status run(const Batch& batch, std::vector<Result>* results);

  // name returns where the server is, for messages.
  const std::string& name() const { return name_; }

 private:
  explicit Client(const Endpoint& endpoint);
  // ReplyParser parses replies, with buffers kept from one to the next
  // (simdjson's, which this header leaves to client.cpp).
  struct ReplyParser;

  Status open();
  Status reopen_if_closed();
  void close_connection();
  // fail closes the connection after a broken exchange and returns s.
  Status fail(Status s);
  Status exchange(const Batch& batch, std::vector<Result>* results);
  Status read_some(std::size_t replies, std::size_t expected);
  Status take_replies(const Batch& batch, std::vector<Result>* results);
  Status decode(const Batch::Entry& entry, std::size_t body_at, std::size_t length, Result* result);
  // single runs a batch of one request and returns its outcome.
  Status single(const Batch& batch, Result* result);

  const Endpoint endpoint_;
  const std::string name_;
  int fd_ = -1;     // -1 between a failure and the next call
  std::string in_;  // reply bytes read and not yet decoded; capacity keeps
                    // the parser's padding (64 bytes) spare after them
  std::unique_ptr<ReplyParser> parser_;
};

}  // namespace shmkv::client
