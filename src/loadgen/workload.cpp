#include "loadgen/workload.hpp"

#include <fmt/format.h>

#include <cstring>

#include "protocol/frame.hpp"
#include "protocol/json_ondemand.hpp"
#include "protocol/reply.hpp"

namespace shmkv::workload {

namespace od = simdjson::ondemand;

KeyText key_text(std::uint64_t n) {
  KeyText k;
  std::memcpy(k.bytes, "key:", 4);
  for (std::size_t i = kKeySize; i > 4; --i) {
    k.bytes[i - 1] = static_cast<char>('0' + n % 10);
    n /= 10;
  }
  return k;
}

Generator::Generator(const Config& config) : config_(config), state_(config.seed), value_(config.value_size, 'x') {
  value_.front() = '"';
  value_.back() = '"';
}

// splitmix64: fast, and good enough to spread keys and operations evenly.
std::uint64_t Generator::random() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

Request Generator::next(std::int32_t version, std::string& out) {
  Request r;
  // The top 53 bits as a fraction in [0, 1): below get_ratio means GET, so
  // a ratio of 1 gives only GETs and 0 only PUTs.
  const double draw = static_cast<double>(random() >> 11) * 0x1.0p-53;
  r.op = config_.incr ? Op::kIncr : draw < config_.get_ratio ? Op::kGet : Op::kPut;
  if (config_.sequential) {
    r.key = next_key_;
    next_key_ = next_key_ + 1 == config_.keyspace ? 0 : next_key_ + 1;
  } else {
    r.key = random() % config_.keyspace;  // the bias is below 2^-24 for any keyspace allowed
  }
  const KeyText key = key_text(r.key);
  const std::size_t header = frame::begin(out, version);
  if (r.op == Op::kGet || r.op == Op::kIncr) {
    out.append(r.op == Op::kGet ? R"({"func": "GET", "params": {"obj": ")" : R"({"func": "INCR", "params": {"obj": ")");
    out.append(key.view());
    out.append(R"("}})");
  } else {
    out.append(R"({"func": "PUT", "params": {"obj": ")");
    out.append(key.view());
    out.append(R"(", "val": )");
    out.append(value_);
    out.append("}}");
  }
  frame::finish(out, header);
  return r;
}

namespace {

// wrong describes a reply that is not the answer, with the start of its body.
Verdict wrong(std::string* why, std::string_view what, std::string_view body) {
  *why = fmt::format("{}: {:.120}", what, body);
  return Verdict::kWrong;
}

// is_valid_object says whether the document is one JSON object, valid
// throughout, with nothing after it. On-Demand reads only what it is asked
// for, and would otherwise take a reply cut short, or followed by junk, for
// the answer; the parse is now only for replies that are not exactly
// shmkvd's, so checking all of it costs next to nothing.
bool is_valid_object(od::document& doc) {
  od::json_type type;
  if (doc.type().get(type) || type != od::json_type::object) return false;
  od::value root;
  if (doc.get_value().get(root) || json::validate(root)) return false;
  const char* trailing = nullptr;
  return doc.current_location().get(trailing) != simdjson::SUCCESS;
}

}  // namespace

Checker::Checker(std::string_view put_value) : parser_(json::make_parser()) {
  if (json::check_value(put_value)) put_value_ = put_value;
}

// is_exact_answer says whether body is, byte for byte, the reply shmkvd
// sends to request, as the daemon's own reply module writes it: a build and
// a compare, where parsing a reply took about 100 ns of the client's 6 us
// per request. The parts are all valid JSON (put_value_ is checked when
// set), so a match is a reply that the parse below would accept; anything
// else (other spacing, a value stored by another client) is left to it.
bool Checker::is_exact_answer(const Request& request, std::string_view body) {
  if (request.op == Op::kIncr) return false;  // the new value is not known here
  const KeyText key = key_text(request.key);
  auto matches = [&](const std::string_view* value) {
    expected_.clear();
    if (request.op == Op::kPut) reply::put(expected_, frame::kVersionPersistent, key.view());
    else reply::get(expected_, frame::kVersionPersistent, key.view(), value);
    return std::string_view(expected_).substr(frame::kHeaderSize) == body;
  };
  if (request.op == Op::kPut) return matches(nullptr);
  const std::string_view stored(put_value_);
  return !put_value_.empty() && (matches(&stored) || matches(nullptr));
}

Verdict Checker::check(const Request& request, std::string_view body, std::string* why) {
  if (is_exact_answer(request, body)) return Verdict::kOk;
  od::document doc;
  const simdjson::padded_string_view padded(body.data(), body.size(), body.size() + json::kPadding);
  if (parser_->parser.iterate(padded).get(doc) || !is_valid_object(doc))
    return wrong(why, "reply is not JSON (one valid object)", body);
  doc.rewind();
  std::string_view status;
  // On-Demand parses lazily: text that is not JSON at all fails here.
  if (doc["status"].get_string().get(status)) return wrong(why, "reply is not JSON with a status", body);
  if (status == "ERROR") {
    std::string_view message;
    if (doc["error"].get_string().get(message)) message = "(no message)";
    *why = fmt::format("error reply: {:.200}", message);
    return Verdict::kErrorReply;
  }
  if (status != "OK") return wrong(why, "reply status is neither OK nor ERROR", body);

  const std::string_view func = request.op == Op::kGet ? "GET" : request.op == Op::kPut ? "PUT" : "INCR";
  od::object response;
  std::string_view got_func;
  od::object result;
  if (doc["response"].get_object().get(response) || response["func"].get_string().get(got_func) ||
      response["response"].get_object().get(result))
    return wrong(why, "reply lacks response.func or response.response", body);
  if (got_func != func) return wrong(why, fmt::format("{} request answered as {:.20}", func, got_func), body);
  std::string_view key;
  if (result["obj"].get_string().get(key) || key != key_text(request.key).view())
    return wrong(why, fmt::format("{} of {} answered with another key", func, key_text(request.key).view()), body);
  if (request.op == Op::kGet) {
    od::value val;
    if (result["val"].get(val) || json::validate(val))
      return wrong(why, "GET reply lacks a valid value", body);
  } else if (request.op == Op::kIncr) {
    std::int64_t n = 0;
    if (result["val"].get_int64().get(n)) return wrong(why, "INCR reply lacks an integer", body);
  } else {
    std::string_view ok;
    if (result["response"].get_string().get(ok) || ok != "ok") return wrong(why, "PUT reply is not ok", body);
  }
  return Verdict::kOk;
}

}  // namespace shmkv::workload
