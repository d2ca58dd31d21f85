#include "shmkv/dispatch.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include "shmkv/frame.hpp"

using namespace shmkv;

namespace {

// Harness runs request bodies through a Dispatcher over a fresh store and
// returns the reply bodies, checking each reply's frame on the way.
struct Harness {
  std::string name = fmt::format("shmkv-dispatch-{}", getpid());
  std::unique_ptr<store::Store> store;
  std::unique_ptr<dispatch::Dispatcher> dispatcher;

  Harness() {
    store::Store::remove(name);
    REQUIRE(store::Store::open(name, 1 << 20, &store).is_ok());
    dispatcher = std::make_unique<dispatch::Dispatcher>(*store);
  }
  ~Harness() { store::Store::remove(name); }

  std::string call(std::string body, std::int32_t version = 2) {
    body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
    std::string out;
    dispatcher->handle(version, body.data(), body.size(), body.capacity(), out);
    const frame::DecodeResult r = frame::decode(out, SIZE_MAX);
    REQUIRE(r.what == frame::Decoded::kMessage);
    CHECK(r.version == version);
    CHECK(r.consumed == out.size());
    return std::string(r.body);
  }
};

}  // namespace

TEST_CASE("dispatch: replies have the original server's exact bytes") {
  Harness h;
  CHECK(h.call(R"({"func": "PUT", "params": {"obj": "colour", "val": {"r": 255}}})", 1) ==
        R"({"status": "OK", "response": {"func": "PUT", "response": {"obj": "colour", "response": "ok"}}})");
  CHECK(h.call(R"({"func": "GET", "params": {"obj": "colour"}})", 1) ==
        R"({"status": "OK", "response": {"func": "GET", "response": {"obj": "colour", "val": {"r": 255}}}})");
  CHECK(h.call(R"({"func": "GET", "params": {"obj": "nope"}})") ==
        R"({"status": "OK", "response": {"func": "GET", "response": {"obj": "nope", "val": null}}})");
  CHECK(h.call(R"({"func": "FROB", "params": 7})") ==
        R"({"status": "OK", "response": {"func": "FROB", "response": "ERROR - Function doesn't exist"}})");
}

TEST_CASE("dispatch: values come back byte-exact") {
  Harness h;
  for (const char* value : {"12345678901234567890123", "1.0", "-0.5e-10", R"("\u2603\"")", "null",
                            R"([[1, 2.50], {"a": {"b": [true, false, null, "x"]}}])"}) {
    CAPTURE(value);
    h.call(fmt::format(R"({{"func": "PUT", "params": {{"obj": "v", "val": {}}}}})", value));
    CHECK(h.call(R"({"func": "GET", "params": {"obj": "v"}})") ==
          fmt::format(R"({{"status": "OK", "response": {{"func": "GET", "response": {{"obj": "v", "val": {}}}}}}})",
                      value));
  }
}

TEST_CASE("dispatch: escaped keys are one key, echoed as JSON") {
  Harness h;
  h.call(R"({"func": "PUT", "params": {"obj": "a\u0062\n", "val": 1}})");
  CHECK(h.call("{\"func\": \"GET\", \"params\": {\"obj\": \"ab\\n\"}}") ==
        R"({"status": "OK", "response": {"func": "GET", "response": {"obj": "ab\n", "val": 1}}})");
}

TEST_CASE("dispatch: bad requests get an error reply and change nothing") {
  Harness h;
  h.call(R"({"func": "PUT", "params": {"obj": "k", "val": "kept"}})");
  CHECK(h.call(R"({"func": "PUT", "params": {"obj": "k", "val": [1,]}})").find(R"({"status": "ERROR", "error": "malformed JSON at byte)") == 0);
  CHECK(h.call(R"({"func": "PUT", "params": {"obj": "k"}})") ==
        R"({"status": "ERROR", "error": "params.val is missing"})");
  CHECK(h.call(R"({"func": "PUT", "params": {"obj": 1, "val": 2}})") ==
        R"({"status": "ERROR", "error": "params.obj must be a string"})");
  CHECK(h.call(R"({"func": "GET", "params": {"obj": "k"}})") ==
        R"({"status": "OK", "response": {"func": "GET", "response": {"obj": "k", "val": "kept"}}})");
}

TEST_CASE("dispatch: a PUT that does not fit says the store is full") {
  Harness h;
  std::string big = R"({"func": "PUT", "params": {"obj": "big", "val": ")" + std::string(2 << 20, 'x') + "\"}}";
  CHECK(h.call(big) == R"({"status": "ERROR", "error": "store is full"})");
  CHECK(h.call(R"({"func": "GET", "params": {"obj": "big"}})").find(R"("val": null)") != std::string::npos);
}
