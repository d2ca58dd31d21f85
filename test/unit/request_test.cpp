#include "protocol/request.hpp"

#include <doctest/doctest.h>

#include "check_ok.hpp"
#include "protocol/json.hpp"

#include <string>

using namespace shmkv;

namespace {

// Parsed keeps the padded copy of the body alive with the request.
struct Parsed {
  std::string body;
  request::Parser parser;
  request::Request req;
  Status status;
};

void parse(Parsed& p, std::string body) {
  p.body = std::move(body);
  p.body.reserve(p.body.size() + json::kPadding);
  p.status = p.parser.parse(p.body.data(), p.body.size(), p.body.capacity(), &p.req);
}

std::string error_of(std::string body) {
  Parsed p;
  parse(p, std::move(body));
  return p.status.is_ok() ? "(ok)" : p.status.message();
}

}  // namespace

TEST_CASE("request: GET and PUT in the original client's form") {
  Parsed p;
  parse(p, R"({"func": "PUT", "params": {"obj": "colour", "val": {"r": 255}}})");
  REQUIRE_OK(p.status);
  CHECK(p.req.func == request::Func::kPut);
  CHECK(p.req.key == "colour");
  CHECK(p.req.value == R"({"r": 255})");

  parse(p, R"({"func": "GET", "params": {"obj": "colour"}})");
  REQUIRE_OK(p.status);
  CHECK(p.req.func == request::Func::kGet);
  CHECK(p.req.key == "colour");
}

TEST_CASE("request: fields may come in any order, keys are decoded") {
  Parsed p;
  parse(p, R"({"params": {"val": [1, 2], "obj": "a\u0062"}, "func": "PUT"})");
  REQUIRE_OK(p.status);
  CHECK(p.req.key == "ab");
  CHECK(p.req.value == "[1, 2]");
}

TEST_CASE("request: values keep their exact source text") {
  for (const char* value : {"12345678901234567890123", "1.0", "-0.5e-10", R"("\u2603\"")",
                            R"([[1, {"a": [true, false, null]}], {}])", "null", R"({"nested": {"x": []}})"}) {
    CAPTURE(value);
    Parsed p;
    parse(p, std::string(R"({"func": "PUT", "params": {"obj": "k", "val": )") + value + "  }}");
    REQUIRE_OK(p.status);
    CHECK(p.req.value == value);
  }
}

TEST_CASE("request: an unknown function's params are not examined") {
  Parsed p;
  parse(p, R"({"func": "FROB"})");
  REQUIRE_OK(p.status);
  CHECK(p.req.func == request::Func::kUnknown);
  CHECK(p.req.func_name == "FROB");
}

TEST_CASE("request: every error of shmkv-protocol(7) Errors names the problem") {
  CHECK(error_of("") == "empty request body");
  CHECK(error_of("{\"func\": \"GET\xff\"}") == "body is not valid UTF-8");
  CHECK(error_of(R"({"func": "GET", "params": {"obj": "k"}} x)") ==
        "malformed JSON at byte 40: unexpected text after the value");
  CHECK(error_of(R"({"func": "GET", "params": {"obj": "k"},})").find("malformed JSON at byte") == 0);
  CHECK(error_of(R"({"func": "PUT", "params": {"obj": "k", "val": 01}})") ==
        "malformed JSON at byte 46: bad number");
  CHECK(error_of(R"({"func": "PUT", "params": {"obj": "k", "val": tru}})").find("malformed JSON") == 0);
  CHECK(error_of(R"({"func": "PUT", "params": {"obj": "k", "val": "\q"}})").find("bad string") !=
        std::string::npos);
  CHECK(error_of(R"({"func": "X", "params": {"obj": "k", "val": [1,]}})").find("malformed JSON") == 0);
  CHECK(error_of("{\"func\": \"PUT\", \"params\": {\"obj\": \"k\", \"val\": \"a\x01\"}}")
            .find("unescaped control character") != std::string::npos);
  CHECK(error_of(R"({"a": )" + std::string(100000, '[')).find("nesting deeper than 1024 levels") !=
        std::string::npos);
  CHECK(error_of("[1, 2]") == "request must be a JSON object");
  CHECK(error_of("\"GET\"") == "request must be a JSON object");
  CHECK(error_of(R"({"params": {}})") == "func is missing");
  CHECK(error_of(R"({"func": 1, "params": {}})") == "func must be a string");
  CHECK(error_of(R"({"func": "GET"})") == "params is missing");
  CHECK(error_of(R"({"func": "GET", "params": [1]})") == "params must be an object");
  CHECK(error_of(R"({"func": "GET", "params": {}})") == "params.obj is missing");
  CHECK(error_of(R"({"func": "GET", "params": {"obj": 5}})") == "params.obj must be a string");
  CHECK(error_of(R"({"func": "PUT", "params": {"obj": "k"}})") == "params.val is missing");
  CHECK(error_of(R"({"func": "PUT", "params": {"obj": null, "val": 1}})") == "params.obj must be a string");
}

TEST_CASE("request: one parser serves many requests") {
  Parsed p;
  for (int i = 0; i < 100; ++i) {
    parse(p, i % 2 ? R"({"func": "GET", "params": {"obj": "k"}})" : "[broken");
    CHECK(p.status.is_ok() == (i % 2 == 1));
  }
}

TEST_CASE("request: DELETE, KEYS and STATS params") {
  Parsed p;
  parse(p, R"({"func": "DELETE", "params": {"obj": "k"}})");
  REQUIRE_OK(p.status);
  CHECK(p.req.func == request::Func::kDelete);
  CHECK(p.req.key == "k");

  parse(p, R"({"func": "KEYS", "params": {}})");
  REQUIRE_OK(p.status);
  CHECK(p.req.func == request::Func::kKeys);
  CHECK(p.req.prefix == "");
  CHECK_FALSE(p.req.has_after);
  CHECK(p.req.limit == request::kKeysDefaultLimit);

  parse(p, R"({"func": "KEYS", "params": {"limit": 5, "after": "a\u0062", "prefix": "a"}})");
  REQUIRE_OK(p.status);
  CHECK(p.req.prefix == "a");
  CHECK(p.req.has_after);
  CHECK(p.req.after == "ab");
  CHECK(p.req.limit == 5);

  parse(p, R"({"func": "STATS", "params": {}})");
  REQUIRE_OK(p.status);
  CHECK(p.req.func == request::Func::kStats);

  CHECK(error_of(R"({"func": "DELETE", "params": {}})") == "params.obj is missing");
  CHECK(error_of(R"({"func": "STATS"})") == "params is missing");
  CHECK(error_of(R"({"func": "KEYS", "params": {"prefix": 1}})") == "params.prefix must be a string");
  CHECK(error_of(R"({"func": "KEYS", "params": {"after": null}})") == "params.after must be a string");
  for (const char* limit : {"0", "100001", "-1", "1.5", "\"10\"", "1e3"}) {
    CAPTURE(limit);
    CHECK(error_of(std::string(R"({"func": "KEYS", "params": {"limit": )") + limit + "}}") ==
          "params.limit must be an integer from 1 to 100000");
  }
}

TEST_CASE("request: DEBUG exists only with --debug-commands") {
  Parsed p;
  parse(p, R"({"func": "DEBUG", "params": {"crash": "in_store"}})");
  REQUIRE_OK(p.status);
  CHECK(p.req.func == request::Func::kUnknown);

  request::Parser debug(true);
  std::string body = R"({"func": "DEBUG", "params": {"crash": "in_store"}})";
  body.reserve(body.size() + json::kPadding);
  request::Request req;
  REQUIRE_OK(debug.parse(body.data(), body.size(), body.capacity(), &req));
  CHECK(req.func == request::Func::kDebug);
  CHECK(req.crash_in_store);
  body = R"({"func": "DEBUG", "params": {"hold_lock_ms": 250}})";
  body.reserve(body.size() + json::kPadding);
  REQUIRE_OK(debug.parse(body.data(), body.size(), body.capacity(), &req));
  CHECK(req.hold_lock_ms == 250);
  CHECK_FALSE(req.crash_in_store);
  body = R"({"func": "DEBUG", "params": {"crash": "elsewhere"}})";
  body.reserve(body.size() + json::kPadding);
  CHECK_FALSE(debug.parse(body.data(), body.size(), body.capacity(), &req).is_ok());
}

TEST_CASE("request: of duplicate members the last counts; names are compared decoded") {
  Parsed p;
  parse(p, R"({"func": "PUT", "params": {"obj": "a", "val": 1, "val": [2], "ttl": "x", "ttl": 1.5, "if": 1, "if": "absent"}})");
  REQUIRE_OK(p.status);
  CHECK(p.req.value == "[2]");
  CHECK(p.req.ttl_ms == 1500);
  CHECK(p.req.condition == request::Condition::kIfAbsent);
  parse(p, R"({"func": "GET", "f\u0075nc": "INCR", "params": {"obj": 1}, "params": {"o\u0062j": "k", "by": 2, "by": -3}})");
  REQUIRE_OK(p.status);
  CHECK(p.req.func == request::Func::kIncr);
  CHECK(p.req.key == "k");
  CHECK(p.req.by == -3);
  // A bad escape in a name is malformed JSON, wherever the name is.
  CHECK(error_of(R"({"func": "GET", "params": {"o\qj": 1, "obj": "a"}})").find("bad string") != std::string::npos);
  CHECK(error_of(R"({"func": "GET", "params": {"obj": "a", "x": {"\ud800": 1}}})").find("malformed JSON") == 0);
  CHECK(error_of(R"({"func": "PUT", "params": {"obj": "a", "val": 1, "ttl": 5, "ttl": 0}})") ==
        "params.ttl must be a number of seconds above 0 and at most 315360000");
  CHECK(error_of(R"({"func": "EXPIRE", "params": {"obj": "a", "ttl": true}})") ==
        "params.ttl must be a number of seconds above 0 and at most 315360000, or null");
  CHECK(error_of(R"({"func": "INCR", "params": {"obj": "a", "by": -0}})") ==
        "params.by must be an integer in signed 64-bit range");
  CHECK(error_of(R"({"func": "PUT", "params": {"obj": "a", "val": 1, "ttl": 0.0004}})") ==
        "params.ttl must be at least 0.001 (one millisecond)");
}

TEST_CASE("request: PUT's bytes and GET's encoding (Bytes over JSON)") {
  Parsed p;
  parse(p, R"({"func": "PUT", "params": {"obj": "k", "bytes": "aGk="}})");
  REQUIRE_OK(p.status);
  CHECK(p.req.value == "hi");
  CHECK(p.req.value_is_bytes);
  parse(p, R"({"func": "PUT", "params": {"obj": "k", "val": "aGk="}})");
  REQUIRE_OK(p.status);
  CHECK(p.req.value == "\"aGk=\"");
  CHECK(!p.req.value_is_bytes);
  parse(p, R"({"func": "GET", "params": {"obj": "k", "encoding": "base64"}})");
  REQUIRE_OK(p.status);
  CHECK(p.req.typed);
  parse(p, R"({"func": "GET", "params": {"obj": "k"}})");
  REQUIRE_OK(p.status);
  CHECK(!p.req.typed);
  // Other functions do not read them.
  CHECK(error_of(R"({"func": "DELETE", "params": {"obj": "k", "encoding": 5, "bytes": 1}})") == "(ok)");
  CHECK(error_of(R"({"func": "PUT", "params": {"obj": "k", "bytes": "a Gk="}})") ==
        "params.bytes must be a string of base64 (RFC 4648, padded with =)");
  CHECK(error_of(R"({"func": "PUT", "params": {"obj": "k", "bytes": ["aGk="]}})") ==
        "params.bytes must be a string of base64 (RFC 4648, padded with =)");
  CHECK(error_of(R"({"func": "PUT", "params": {"obj": "k", "bytes": "aGk=", "val": 1}})") ==
        "give params.val or params.bytes, not both");
  CHECK(error_of(R"({"func": "GET", "params": {"obj": "k", "encoding": "BASE64"}})") ==
        R"(params.encoding must be "base64")");
}
