// Request parsing (shmkv-protocol(7), Requests and replies, and Errors): turns a message body into a
// Request, or into the one-line error the client is sent. The whole body is
// validated; values are kept as their exact source text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/json.hpp"
#include "shmkv/status.hpp"

namespace shmkv::request {

enum class Func { kGet, kPut, kDelete, kKeys, kStats, kIncr, kExpire, kTtl, kSave, kDebug, kUnknown };

// PUT's "if" (shmkv-protocol(7), Conditional PUT).
enum class Condition { kAlways, kIfAbsent, kIfPresent };

// The longest ttl, 10 years in seconds, and the finest step, a millisecond
// (shmkv-protocol(7), Expiry).
inline constexpr std::int64_t kMaxTtlSeconds = 315360000;

// KEYS limits (shmkv-protocol(7), Requests and replies).
inline constexpr std::uint32_t kKeysDefaultLimit = 1000;
inline constexpr std::uint32_t kKeysMaxLimit = 100000;

// A parsed request. Its string_views point into the body or into the Parser
// that produced it, and are valid until that Parser parses again.
struct Request {
  Func func = Func::kUnknown;
  std::string_view func_name;  // decoded, as the client spelled it
  std::string_view key;        // decoded params.obj (every function but KEYS and STATS)
  // PUT: the source text of params.val, or with value_is_bytes the bytes
  // params.bytes encodes (shmkv-protocol(7), Bytes over JSON).
  std::string_view value;
  bool value_is_bytes = false;
  // GET: params.encoding is "base64": the reply says the value's kind and
  // carries a bytes value in base64 (shmkv-protocol(7), Bytes over JSON).
  bool typed = false;
  // PUT and EXPIRE: params.ttl in milliseconds, 1..kMaxTtlSeconds * 1000;
  // 0 when absent (PUT) or null (EXPIRE: remove the expiry).
  std::int64_t ttl_ms = 0;
  Condition condition = Condition::kAlways;  // PUT's params.if
  std::int64_t by = 1;                       // INCR's params.by
  // KEYS: every param optional.
  std::string_view prefix;
  std::string_view after;
  bool has_after = false;
  std::uint32_t limit = kKeysDefaultLimit;
  // DEBUG (only with --debug-commands): one of the two.
  std::uint32_t hold_lock_ms = 0;
  bool crash_in_store = false;
};

// DEBUG's longest hold of the store lock.
inline constexpr std::uint32_t kDebugMaxHoldMs = 60000;

// Parser owns simdjson's buffers, reused from request to request; one per
// connection. Not thread-safe.
class Parser {
 public:
  // debug_commands enables DEBUG; without it DEBUG is an unknown function.
  explicit Parser(bool debug_commands = false) : parser_(json::make_parser()), debug_commands_(debug_commands) {}

  // parse parses body, which must be followed by json::kPadding
  // readable bytes (capacity counts them). Errors are Status::invalid with the
  // message to send to the client.
  Status parse(const char* body, std::size_t length, std::size_t capacity, Request* out);

 private:
  json::OnDemandParserPtr parser_;
  std::string bytes_;  // PUT's params.bytes, decoded
  const bool debug_commands_;
};

}  // namespace shmkv::request
