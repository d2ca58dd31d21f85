// What shmkv-bench asks and how it judges the answers: which operation and key
// come next, the request bytes, and whether a reply body is the answer to the
// request it belongs to. No sockets here; the load generator (bench) calls it
// once per request, so nothing in it allocates in the steady state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/json.hpp"

namespace shmkv::workload {

// Keys are named as redis-benchmark -r names them: "key:" and twelve digits,
// 16 bytes, so that both servers store the same keys.
inline constexpr std::size_t kKeySize = 16;
inline constexpr std::uint64_t kMaxKeyspace = 1'000'000'000'000;

enum class Op : std::uint8_t { kGet, kPut, kIncr };

// Request is what was asked, kept until its reply arrives.
struct Request {
  Op op = Op::kGet;
  std::uint64_t key = 0;
};

struct Config {
  std::uint64_t keyspace = 100000;  // keys 0 .. keyspace-1; at most kMaxKeyspace
  double get_ratio = 0.5;           // share of GETs, 0..1; the rest are PUTs
  std::size_t value_size = 32;      // bytes of the value's JSON text: a string, so at least 2
  bool sequential = false;          // keys 0, 1, 2 ... in turn (wrapping) instead of at random
  bool incr = false;                // every request an INCR (get_ratio unused), as redis-benchmark -t incr
  std::uint64_t seed = 1;
};

// KeyText is the text of one key, on the stack.
struct KeyText {
  char bytes[kKeySize];
  std::string_view view() const { return {bytes, kKeySize}; }
};

// key_text returns the name of key n (n < kMaxKeyspace).
KeyText key_text(std::uint64_t n);

class Generator {
 public:
  // REQUIRES: config.keyspace in 1..kMaxKeyspace, config.value_size >= 2.
  explicit Generator(const Config& config);

  // next chooses the next request and appends it to out as one whole message
  // of the given protocol version.
  Request next(std::int32_t version, std::string& out);

  // value is the JSON text every PUT stores: a string of 'x' characters.
  const std::string& value() const { return value_; }

 private:
  std::uint64_t random();

  Config config_;
  std::uint64_t state_;         // the random generator's (splitmix64)
  std::uint64_t next_key_ = 0;  // the next key in sequential order
  std::string value_;
};

enum class Verdict {
  kOk,          // the reply answers the request
  kErrorReply,  // {"status": "ERROR", ...}
  kWrong,       // anything else: not JSON, another function or key, a missing part
};

// Checker judges reply bodies; it owns the JSON parser it reuses for each.
class Checker {
 public:
  // put_value is the JSON text the Generator's PUTs store (its value()): a
  // GET reply carrying it, or null, byte for byte as shmkvd formats it, is
  // recognised without parsing. Empty, or not one valid JSON value: every
  // reply is parsed.
  explicit Checker(std::string_view put_value = {});

  // check says whether body is the successful reply to request: status "OK",
  // the function asked for, the key asked for, and for a GET a value (any
  // valid JSON value, null for an absent key), for a PUT the response "ok",
  // for an INCR an integer.
  // Otherwise *why says what was wrong: the server's error message, or what
  // was missing, with the start of the body.
  // REQUIRES: json::kPadding readable bytes follow body.
  Verdict check(const Request& request, std::string_view body, std::string* why);

 private:
  bool is_exact_answer(const Request& request, std::string_view body);

  json::OnDemandParserPtr parser_;
  std::string put_value_;  // valid JSON, or empty
  std::string expected_;   // scratch: the exact reply, framed
};

}  // namespace shmkv::workload
