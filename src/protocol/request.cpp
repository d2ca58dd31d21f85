#include "protocol/request.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstring>

#include "protocol/base64.hpp"
#include "protocol/json_ondemand.hpp"

namespace shmkv::request {

namespace od = simdjson::ondemand;
using simdjson::error_code;

namespace {

Func func_of(std::string_view name, bool debug_commands) {
  if (debug_commands && name == "DEBUG") return Func::kDebug;
  if (name == "GET") return Func::kGet;
  if (name == "PUT") return Func::kPut;
  if (name == "DELETE") return Func::kDelete;
  if (name == "KEYS") return Func::kKeys;
  if (name == "STATS") return Func::kStats;
  if (name == "INCR") return Func::kIncr;
  if (name == "EXPIRE") return Func::kExpire;
  if (name == "TTL") return Func::kTtl;
  if (name == "SAVE") return Func::kSave;
  return Func::kUnknown;
}

// The params members any function reads. A request's params are read once,
// in order, keeping the last occurrence of each name, as the original
// server's json.loads does with duplicate members (shmkv-protocol(7),
// Requests and replies): {"obj": "a", "val": 1, "val": 2} stores 2.
enum Param {
  kObj, kVal, kTtl, kIf, kBy, kPrefix, kAfter, kLimit, kHoldLockMs, kCrash, kBytes, kEncoding, kParamCount
};
constexpr std::string_view kParamNames[kParamCount] = {"obj",   "val",          "ttl",   "if",    "by",
                                                       "prefix", "after",       "limit", "hold_lock_ms",
                                                       "crash", "bytes",        "encoding"};

// Member is one param as last seen: a string's decoded characters, or any
// other value's source text (trailing white space trimmed); val is always
// source text, as PUT stores it (shmkv-protocol(7), Requests and replies).
struct Member {
  bool present = false;
  od::json_type type = od::json_type::null;
  std::string_view text;
};
using Members = Member[kParamCount];

// param_of returns which param a member's name is, or kParamCount: a
// switch on the length first, as this runs for every member of every request.
int param_of(std::string_view name) {
  auto is = [&](Param p) { return std::memcmp(name.data(), kParamNames[p].data(), name.size()) == 0 ? p : kParamCount; };
  switch (name.size()) {
    case 2: return name[0] == 'i' ? is(kIf) : is(kBy);
    case 3: return name[0] == 'o' ? is(kObj) : name[0] == 'v' ? is(kVal) : is(kTtl);
    case 5:
      return name[0] == 'a' ? is(kAfter) : name[0] == 'l' ? is(kLimit) : name[0] == 'b' ? is(kBytes) : is(kCrash);
    case 6: return is(kPrefix);
    case 8: return is(kEncoding);
    case 12: return is(kHoldLockMs);
    default: return kParamCount;
  }
}

// read_params records every known member of params into members, which
// start empty. The body was validated whole beforehand, so the walk meets
// no malformed text.
error_code read_params(od::object& params, Members& members) {
  for (auto f : params) {
    od::field field;
    if (auto e = std::move(f).get(field)) return e;
    std::string_view name;
    if (auto e = json::field_name(field, &name)) return e;
    const int which = param_of(name);
    if (which == kParamCount) continue;  // not read by any function: skipped
    Member& m = members[which];
    od::value v = field.value();
    if (auto e = v.type().get(m.type)) return e;
    m.present = true;
    if (m.type == od::json_type::string && which != kVal) {
      if (auto e = v.get_string().get(m.text)) return e;
    } else if (auto e = json::raw_text(v, &m.text)) {
      return e;
    }
  }
  return simdjson::SUCCESS;
}

// string_param reads params.NAME as a string, for the messages of section 4.
// *present (when given) says whether it was there; otherwise it is required.
Status string_param(const Members& members, Param which, std::string_view* out, bool* present = nullptr) {
  const Member& m = members[which];
  if (!m.present) {
    if (present) {
      *present = false;
      return Status::ok();
    }
    return Status::invalid(fmt::format("params.{} is missing", kParamNames[which]));
  }
  if (m.type != od::json_type::string)
    return Status::invalid(fmt::format("params.{} must be a string", kParamNames[which]));
  *out = m.text;
  if (present) *present = true;
  return Status::ok();
}

// integer_param reads a number member that is exactly a decimal integer in
// signed 64-bit range: no fraction, no exponent, no "-0".
bool integer_param(const Member& m, std::int64_t* out) {
  if (m.type != od::json_type::number || m.text.empty() || m.text == "-0") return false;
  const auto [end, error] = std::from_chars(m.text.data(), m.text.data() + m.text.size(), *out);
  return error == std::errc() && end == m.text.data() + m.text.size();
}

// ttl_param reads params.ttl, seconds above 0 and at most ten years, kept to
// the millisecond (shmkv-protocol(7), Expiry); EXPIRE also takes null.
Status ttl_param(const Member& m, bool null_allowed, std::int64_t* ms) {
  if (null_allowed && m.type == od::json_type::null) {
    *ms = 0;
    return Status::ok();
  }
  const Status bad = Status::invalid(fmt::format("params.ttl must be a number of seconds above 0 and at most {}{}",
                                                 kMaxTtlSeconds, null_allowed ? ", or null" : ""));
  if (m.type != od::json_type::number) return bad;
  double seconds = 0;
  const auto [end, error] = std::from_chars(m.text.data(), m.text.data() + m.text.size(), seconds);
  // Out of range (1e400, 1e-400), NaN, negative zero and below: all refused.
  if (error != std::errc() || end != m.text.data() + m.text.size() || !(seconds > 0) ||
      seconds > double(kMaxTtlSeconds))
    return bad;
  *ms = std::llround(seconds * 1000);
  if (*ms < 1) return Status::invalid("params.ttl must be at least 0.001 (one millisecond)");
  return Status::ok();
}

// keys_params reads KEYS' optional prefix, after and limit.
Status keys_params(const Members& members, Request* out) {
  bool present = false;
  if (Status s = string_param(members, kPrefix, &out->prefix, &present); !s) return s;
  if (Status s = string_param(members, kAfter, &out->after, &out->has_after); !s) return s;
  if (!members[kLimit].present) return Status::ok();
  std::int64_t limit = 0;
  if (!integer_param(members[kLimit], &limit) || limit < 1 || limit > std::int64_t(kKeysMaxLimit))
    return Status::invalid(fmt::format("params.limit must be an integer from 1 to {}", kKeysMaxLimit));
  out->limit = static_cast<std::uint32_t>(limit);
  return Status::ok();
}

// debug_params reads DEBUG's {"hold_lock_ms": N} or {"crash": "in_store"}.
Status debug_params(const Members& members, Request* out) {
  const Status usage = Status::invalid(
      fmt::format(R"(DEBUG takes {{"hold_lock_ms": 0..{}}} or {{"crash": "in_store"}})", kDebugMaxHoldMs));
  if (members[kHoldLockMs].present) {
    std::int64_t ms = 0;
    if (!integer_param(members[kHoldLockMs], &ms) || ms < 0 || ms > kDebugMaxHoldMs) return usage;
    out->hold_lock_ms = static_cast<std::uint32_t>(ms);
    return Status::ok();
  }
  const Member& crash = members[kCrash];
  if (!crash.present || crash.type != od::json_type::string || crash.text != "in_store") return usage;
  out->crash_in_store = true;
  return Status::ok();
}

// put_params reads PUT's val (or bytes, decoded into *bytes) and its
// optional ttl and if.
Status put_params(const Members& members, std::string* bytes, Request* out) {
  if (const Member& b = members[kBytes]; b.present) {
    // A value written as bytes (shmkv-protocol(7), Bytes over JSON).
    if (members[kVal].present) return Status::invalid("give params.val or params.bytes, not both");
    const Status bad = Status::invalid("params.bytes must be a string of base64 (RFC 4648, padded with =)");
    if (b.type != od::json_type::string || !base64::decode(b.text, bytes)) return bad;
    out->value = *bytes;
    out->value_is_bytes = true;
  } else {
    if (!members[kVal].present) return Status::invalid("params.val is missing");
    out->value = members[kVal].text;
  }
  if (members[kTtl].present)
    if (Status s = ttl_param(members[kTtl], false, &out->ttl_ms); !s) return s;
  if (const Member& m = members[kIf]; m.present) {
    if (m.type == od::json_type::string && m.text == "absent") out->condition = Condition::kIfAbsent;
    else if (m.type == od::json_type::string && m.text == "present") out->condition = Condition::kIfPresent;
    else return Status::invalid(R"(params.if must be "absent" or "present")");
  }
  return Status::ok();
}

}  // namespace

Status Parser::parse(const char* body, std::size_t length, std::size_t capacity, Request* out) {
  *out = Request{};
  // A UTF-8 byte order mark before the JSON is let pass, as the original's
  // json.loads of the body's bytes did (shmkv-protocol(7), Requests and replies).
  constexpr std::string_view kByteOrderMark = "\xef\xbb\xbf";
  const char* const received = body;
  if (std::string_view(body, length).starts_with(kByteOrderMark)) {
    body += kByteOrderMark.size();
    length -= kByteOrderMark.size();
    capacity -= kByteOrderMark.size();
  }
  od::document doc;
  error_code e = parser_->parser.iterate(body, length, capacity).get(doc);
  if (e == simdjson::EMPTY) return Status::invalid("empty request body");
  if (e) return Status::invalid(json::describe(e, -1));

  // Pass 1: validate the whole body, so that nothing malformed is acted on
  // (On-Demand only checks what it is asked for) and trailing text is caught.
  auto position = [&]() -> long {
    const char* at = nullptr;
    if (doc.current_location().get(at)) return long(body + length - received);
    return long(at - received);
  };
  od::json_type type;
  if ((e = doc.type().get(type))) return Status::invalid(json::describe(e, position()));
  if (type != od::json_type::object) return Status::invalid("request must be a JSON object");
  od::value root;
  if ((e = doc.get_value().get(root)) || (e = json::validate(root)))
    return Status::invalid(json::describe(e, position()));
  const char* trailing = nullptr;
  if (doc.current_location().get(trailing) == simdjson::SUCCESS)
    return Status::invalid(json::describe(simdjson::TRAILING_CONTENT, position()));

  // Pass 2: take the members in one walk, in any order, the last of each
  // name winning (shmkv-protocol(7), Requests and replies).
  doc.rewind();
  od::object top;
  if ((e = doc.get_object().get(top))) return Status::invalid(json::describe(e, -1));
  enum { kMissing, kNotString, kString } func_state = kMissing;
  enum { kNoParams, kNotObject, kObject } params_state = kNoParams;
  Members members;
  for (auto f : top) {
    od::field field;
    std::string_view name;
    if ((e = std::move(f).get(field)) || (e = json::field_name(field, &name)))
      return Status::invalid(json::describe(e, -1));
    if (name == "func") {
      od::value v = field.value();
      func_state = v.get_string().get(out->func_name) ? kNotString : kString;
    } else if (name == "params") {
      od::object params;
      if (field.value().get_object().get(params)) {
        params_state = kNotObject;
        continue;
      }
      if (params_state != kNoParams)  // a later params replaces an earlier one
        for (Member& m : members) m = Member{};
      params_state = kObject;
      if ((e = read_params(params, members))) return Status::invalid(json::describe(e, -1));
    }
  }
  if (func_state == kMissing) return Status::invalid("func is missing");
  if (func_state == kNotString) return Status::invalid("func must be a string");
  out->func = func_of(out->func_name, debug_commands_);
  if (out->func == Func::kUnknown) return Status::ok();  // params are not examined

  if (params_state == kNoParams) return Status::invalid("params is missing");
  if (params_state == kNotObject) return Status::invalid("params must be an object");

  switch (out->func) {
    case Func::kKeys: return keys_params(members, out);
    case Func::kStats:
    case Func::kSave: return Status::ok();
    case Func::kDebug: return debug_params(members, out);
    default: break;
  }
  if (Status s = string_param(members, kObj, &out->key); !s) return s;
  switch (out->func) {
    case Func::kPut: return put_params(members, &bytes_, out);
    case Func::kGet:
      if (const Member& m = members[kEncoding]; m.present) {
        if (m.type != od::json_type::string || m.text != "base64")
          return Status::invalid(R"(params.encoding must be "base64")");
        out->typed = true;
      }
      return Status::ok();
    case Func::kIncr:
      if (members[kBy].present && !integer_param(members[kBy], &out->by))
        return Status::invalid("params.by must be an integer in signed 64-bit range");
      return Status::ok();
    case Func::kExpire:
      if (!members[kTtl].present) return Status::invalid("params.ttl is missing");
      return ttl_param(members[kTtl], true, &out->ttl_ms);
    default: return Status::ok();
  }
}

}  // namespace shmkv::request
