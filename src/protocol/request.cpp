#include "protocol/request.hpp"

#include <fmt/format.h>

#include "protocol/json.hpp"

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
  if (name == "SAVE") return Func::kSave;
  return Func::kUnknown;
}

// string_param reads params.NAME as a string, for the messages of section 4.
// *present (when given) says whether it was there; otherwise it is required.
Status string_param(od::object& params, const char* name, std::string_view* out, bool* present = nullptr) {
  od::value v;
  error_code e = params.find_field_unordered(name).get(v);
  if (e == simdjson::NO_SUCH_FIELD) {
    if (present) {
      *present = false;
      return Status::ok();
    }
    return Status::invalid(fmt::format("params.{} is missing", name));
  }
  if (e) return Status::invalid(json::describe(e, -1));
  if (v.get_string().get(*out)) return Status::invalid(fmt::format("params.{} must be a string", name));
  if (present) *present = true;
  return Status::ok();
}

// keys_params reads KEYS' optional prefix, after and limit.
Status keys_params(od::object& params, Request* out) {
  bool present = false;
  if (Status s = string_param(params, "prefix", &out->prefix, &present); !s) return s;
  if (Status s = string_param(params, "after", &out->after, &out->has_after); !s) return s;
  od::value v;
  error_code e = params.find_field_unordered("limit").get(v);
  if (e == simdjson::NO_SUCH_FIELD) return Status::ok();
  std::int64_t limit = 0;
  if (e || v.get_int64().get(limit) || limit < 1 || limit > std::int64_t(kKeysMaxLimit))
    return Status::invalid(fmt::format("params.limit must be an integer from 1 to {}", kKeysMaxLimit));
  out->limit = static_cast<std::uint32_t>(limit);
  return Status::ok();
}

// debug_params reads DEBUG's {"hold_lock_ms": N} or {"crash": "in_store"}.
Status debug_params(od::object& params, Request* out) {
  const Status usage = Status::invalid(
      fmt::format(R"(DEBUG takes {{"hold_lock_ms": 0..{}}} or {{"crash": "in_store"}})", kDebugMaxHoldMs));
  od::value v;
  if (params.find_field_unordered("hold_lock_ms").get(v) == simdjson::SUCCESS) {
    std::int64_t ms = 0;
    if (v.get_int64().get(ms) || ms < 0 || ms > kDebugMaxHoldMs) return usage;
    out->hold_lock_ms = static_cast<std::uint32_t>(ms);
    return Status::ok();
  }
  std::string_view crash;
  if (params.find_field_unordered("crash").get(v) || v.get_string().get(crash) || crash != "in_store") return usage;
  out->crash_in_store = true;
  return Status::ok();
}

}  // namespace

Status Parser::parse(const char* body, std::size_t length, std::size_t capacity, Request* out) {
  *out = Request{};
  od::document doc;
  error_code e = parser_.iterate(body, length, capacity).get(doc);
  if (e == simdjson::EMPTY) return Status::invalid("empty request body");
  if (e) return Status::invalid(json::describe(e, -1));

  // Pass 1: validate the whole body, so that nothing malformed is acted on
  // (On-Demand only checks what it is asked for) and trailing text is caught.
  auto position = [&]() -> long {
    const char* at = nullptr;
    if (doc.current_location().get(at)) return long(length);
    return long(at - body);
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

  // Pass 2: take the fields, in any order.
  doc.rewind();
  od::object top;
  if ((e = doc.get_object().get(top))) return Status::invalid(json::describe(e, -1));
  od::value func;
  e = top.find_field_unordered("func").get(func);
  if (e == simdjson::NO_SUCH_FIELD) return Status::invalid("func is missing");
  if (e || func.get_string().get(out->func_name)) return Status::invalid("func must be a string");
  out->func = func_of(out->func_name, debug_commands_);
  if (out->func == Func::kUnknown) return Status::ok();  // params are not examined

  od::object params;
  e = top.find_field_unordered("params").get_object().get(params);
  if (e == simdjson::NO_SUCH_FIELD) return Status::invalid("params is missing");
  if (e) return Status::invalid("params must be an object");

  if (out->func == Func::kKeys) return keys_params(params, out);
  if (out->func == Func::kStats || out->func == Func::kSave) return Status::ok();
  if (out->func == Func::kDebug) return debug_params(params, out);
  if (Status s = string_param(params, "obj", &out->key); !s) return s;
  if (out->func == Func::kPut) {
    od::value val;
    e = params.find_field_unordered("val").get(val);
    if (e == simdjson::NO_SUCH_FIELD) return Status::invalid("params.val is missing");
    if (e || (e = json::raw_text(val, &out->value))) return Status::invalid(json::describe(e, -1));
  }
  return Status::ok();
}

}  // namespace shmkv::request
