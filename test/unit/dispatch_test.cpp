#include "daemon/dispatch.hpp"
#include "daemon/snapshotter.hpp"

#include <doctest/doctest.h>

#include <filesystem>

#include "check_ok.hpp"
#include <fmt/format.h>
#include <unistd.h>

#include "protocol/frame.hpp"
#include "protocol/json.hpp"
#include "shmkv/version.hpp"


using namespace shmkv;

namespace {

// Harness runs request bodies through a Dispatcher over a fresh store and
// returns the reply bodies, checking each reply's frame on the way.
struct Harness {
  std::string name = fmt::format("shmkv-dispatch-{}", getpid());
  std::unique_ptr<store::Store> store;
  std::unique_ptr<dispatch::Dispatcher> dispatcher;
  scoreboard::Scoreboard* board = scoreboard::Scoreboard::create(8);

  Harness() {
    store::Store::remove(name);
    REQUIRE_OK(store::Store::open(name, 1 << 20, &store));
    dispatcher = std::make_unique<dispatch::Dispatcher>(*store, *board, dispatch::Dispatcher::Config{4096, true, nullptr});
  }
  ~Harness() { store::Store::remove(name); }

  // call_all answers the bodies as one pipelined read, returning the replies.
  std::vector<std::string> call_all(std::vector<std::string> bodies) {
    std::vector<dispatch::Message> messages;
    for (std::string& body : bodies) {
      body.reserve(body.size() + json::kPadding);
      messages.push_back({2, body.data(), body.size(), body.capacity()});
    }
    std::string out;
    dispatcher->handle(messages.data(), messages.size(), out);
    std::vector<std::string> replies;
    for (std::string_view rest(out); !rest.empty();) {
      const frame::DecodeResult r = frame::decode(rest, SIZE_MAX);
      REQUIRE(r.what == frame::Decoded::kMessage);
      replies.emplace_back(r.body);
      rest.remove_prefix(r.consumed);
    }
    return replies;
  }

  std::string call(std::string body, std::int32_t version = 2) {
    body.reserve(body.size() + json::kPadding);
    std::string out;
    dispatcher->handle({version, body.data(), body.size(), body.capacity()}, out);
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

TEST_CASE("dispatch: DELETE says whether the key was there") {
  Harness h;
  h.call(R"({"func": "PUT", "params": {"obj": "d", "val": 1}})");
  CHECK(h.call(R"({"func": "DELETE", "params": {"obj": "d"}})") ==
        R"({"status": "OK", "response": {"func": "DELETE", "response": {"obj": "d", "response": "ok"}}})");
  CHECK(h.call(R"({"func": "DELETE", "params": {"obj": "d"}})") ==
        R"({"status": "OK", "response": {"func": "DELETE", "response": {"obj": "d", "response": "not found"}}})");
  CHECK(h.call(R"({"func": "GET", "params": {"obj": "d"}})").find(R"("val": null)") != std::string::npos);
}

TEST_CASE("dispatch: KEYS pages by prefix and cursor") {
  Harness h;
  for (const char* k : {"user:2", "user:1", "group:1", "user:10", "user:\n"})
    h.call(fmt::format(R"({{"func": "PUT", "params": {{"obj": {}, "val": 0}}}})", json::Quoted{k}));
  CHECK(h.call(R"({"func": "KEYS", "params": {"prefix": "user:", "limit": 2}})") ==
        R"({"status": "OK", "response": {"func": "KEYS", "response": {"keys": ["user:\n", "user:1"], "more": true}}})");
  CHECK(h.call(R"({"func": "KEYS", "params": {"prefix": "user:", "after": "user:1"}})") ==
        R"({"status": "OK", "response": {"func": "KEYS", "response": {"keys": ["user:10", "user:2"], "more": false}}})");
  CHECK(h.call(R"({"func": "KEYS", "params": {}})").find(R"("keys": ["group:1", "user:\n")") != std::string::npos);
  CHECK(h.call(R"({"func": "KEYS", "params": {"prefix": "none"}})") ==
        R"({"status": "OK", "response": {"func": "KEYS", "response": {"keys": [], "more": false}}})");
}

TEST_CASE("dispatch: a KEYS reply stays within the maximum message size") {
  Harness h;  // its dispatcher has a 4096-byte limit
  const std::string pad(100, 'k');
  for (int i = 0; i < 200; ++i)
    h.call(fmt::format(R"({{"func": "PUT", "params": {{"obj": "{}{:03}", "val": 0}}}})", pad, i));
  std::string after;
  std::size_t seen = 0;
  for (;;) {
    const std::string params =
        after.empty() ? "{}" : fmt::format(R"({{"after": {}}})", json::Quoted{after});
    const std::string body = h.call(fmt::format(R"({{"func": "KEYS", "params": {}}})", params));
    CHECK(body.size() <= 4096);
    std::size_t n = 0;  // keys in this page: each holds pad once
    for (std::size_t at = body.find(pad); at != std::string::npos; at = body.find(pad, at + pad.size())) ++n;
    REQUIRE(n >= 1);
    seen += n;
    const std::size_t last_end = body.rfind("\"]");
    const std::size_t last_start = body.rfind('"', last_end - 1);
    after = body.substr(last_start + 1, last_end - last_start - 1);
    if (body.find(R"("more": false)") != std::string::npos) break;
  }
  CHECK(seen == 200);
  CHECK(after == pad + "199");
}

TEST_CASE("dispatch: STATS reports counts") {
  Harness h;
  for (int i = 0; i < 3; ++i) h.board->reserve(scoreboard::State::kBusy);
  h.board->reserve(scoreboard::State::kIdle);
  h.board->daemon_pid = 42;
  h.call(R"({"func": "PUT", "params": {"obj": "a", "val": 1}})");
  h.call(R"({"func": "PUT", "params": {"obj": "b", "val": 2}})");
  const std::string body = h.call(R"({"func": "STATS", "params": {}})");
  CHECK(body.find(R"({"status": "OK", "response": {"func": "STATS", "response": {"keys": 2, "store_bytes": 1048576, )") == 0);
  CHECK(body.find(R"("connections_active": 3, )") != std::string::npos);
  CHECK(body.find(R"("requests_total": 3, )") != std::string::npos);
  CHECK(body.find(R"("pid": 42, )") != std::string::npos);
  CHECK(body.find(fmt::format(R"("worker_pid": {}, "version": "{}", )", getpid(), kVersion)) != std::string::npos);
  CHECK(body.find(R"("recoveries": 0, "last_recovery": 0, "store_status": "ok", "keys_with_ttl": 0, "expired_keys_total": 0, )") != std::string::npos);
  CHECK(body.find(R"("last_save": 0, "last_save_keys": 0, "last_save_ms": 0, "changes_since_save": 2, )"
                  R"("snapshot_status": "off"}}})") != std::string::npos);

  h.board->recoveries = 2;
  h.board->set_failed("salvage found keys out of order");
  CHECK(h.call(R"({"func": "STATS", "params": {}})").find(R"("recoveries": 2, )") != std::string::npos);
  CHECK(h.call(R"({"func": "STATS", "params": {}})")
            .find(R"("store_status": "failed: salvage found keys out of order", )") != std::string::npos);
  // A store that recovery could not rebuild is not served.
  CHECK(h.call(R"({"func": "GET", "params": {"obj": "a"}})") ==
        R"({"status": "ERROR", "error": "store unavailable: recovery failed: salvage found keys out of order"})");
}

TEST_CASE("dispatch: SAVE writes the snapshot and STATS says so; without --snapshot it is an error") {
  Harness h;
  CHECK(h.call(R"({"func": "SAVE", "params": {}})") ==
        R"({"status": "ERROR", "error": "SAVE needs a snapshot file: start shmkvd with --snapshot PATH"})");
  const std::string dir = fmt::format("/tmp/shmkv-dispatch-save-{}", getpid());
  std::filesystem::create_directories(dir);
  REQUIRE_OK(snapshotter::init(*h.board, dir + "/s.snap"));
  h.call(R"({"func": "PUT", "params": {"obj": "a", "val": [1]}})");
  h.call(R"({"func": "DELETE", "params": {"obj": "zz"}})");  // no change: not counted
  CHECK(h.call(R"({"func": "STATS", "params": {}})").find(R"("changes_since_save": 1, "snapshot_status": "ok"}}})") !=
        std::string::npos);
  const std::string saved = h.call(R"({"func": "SAVE", "params": {}})");
  CHECK(saved.find(R"({"status": "OK", "response": {"func": "SAVE", "response": {"response": "ok", "keys": 1, "bytes": 69, "ms": )") == 0);
  snapshot::File file;
  REQUIRE_OK(snapshot::File::read(dir + "/s.snap", &file));
  CHECK(file.count() == 1);
  const std::string stats = h.call(R"({"func": "STATS", "params": {}})");
  CHECK(stats.find(R"("last_save_keys": 1, )") != std::string::npos);
  CHECK(stats.find(R"("last_save": 0, )") == std::string::npos);
  CHECK(stats.find(R"("changes_since_save": 0, "snapshot_status": "ok"}}})") != std::string::npos);
  // The directory gone: an error reply, and STATS says why.
  std::filesystem::remove_all(dir);
  const std::string failed = h.call(R"({"func": "SAVE", "params": {}})");
  CHECK(failed.find(R"({"status": "ERROR", "error": "SAVE failed, the previous snapshot is kept: create /tmp/shmkv-dispatch-save-)") == 0);
  CHECK(h.call(R"({"func": "STATS", "params": {}})").find(R"("snapshot_status": "failed: create /tmp/shmkv-dispatch-save-)") !=
        std::string::npos);
  CHECK(h.call(R"({"func": "GET", "params": {"obj": "a"}})").find(R"("val": [1])") != std::string::npos);
}

TEST_CASE("dispatch: DEBUG holds the lock when enabled") {
  Harness h;  // its dispatcher has debug_commands on
  CHECK(h.call(R"({"func": "DEBUG", "params": {"hold_lock_ms": 1}})") ==
        R"({"status": "OK", "response": {"func": "DEBUG", "response": "ok"}})");
  CHECK(h.call(R"({"func": "DEBUG", "params": {"hold_lock_ms": 60001}})") ==
        R"({"status": "ERROR", "error": "DEBUG takes {\"hold_lock_ms\": 0..60000} or {\"crash\": \"in_store\"}"})");
}

TEST_CASE("dispatch: a pipelined batch is answered in order, each GET seeing the writes before it") {
  Harness h;
  auto get = [](std::string_view key) { return fmt::format(R"({{"func": "GET", "params": {{"obj": "{}"}}}})", key); };
  auto put = [](std::string_view key, int v) {
    return fmt::format(R"({{"func": "PUT", "params": {{"obj": "{}", "val": {}}}}})", key, v);
  };
  auto got = [](std::string_view key, std::string_view v) {
    return fmt::format(R"({{"status": "OK", "response": {{"func": "GET", "response": {{"obj": "{}", "val": {}}}}}}})",
                       key, v);
  };
  std::vector<std::string> bodies = {put("a", 1), get("a"), get(R"(a\u0062)"), put("ab", 2), get("ab"),
                                     R"({"func": "GET", "params": {"obj": 7}})", get("a"),
                                     R"({"func": "DELETE", "params": {"obj": "a"}})", get("a")};
  std::vector<std::string> want = {
      R"({"status": "OK", "response": {"func": "PUT", "response": {"obj": "a", "response": "ok"}}})",
      got("a", "1"),
      got("ab", "null"),
      R"({"status": "OK", "response": {"func": "PUT", "response": {"obj": "ab", "response": "ok"}}})",
      got("ab", "2"),
      "",  // an error, checked below
      got("a", "1"),
      R"({"status": "OK", "response": {"func": "DELETE", "response": {"obj": "a", "response": "ok"}}})",
      got("a", "null")};
  // A run of GETs longer than one batch, with every tenth key present.
  for (int i = 0; i < 150; i += 10) h.call(put(fmt::format("k{}", i), i));
  for (int i = 0; i < 150; ++i) {
    bodies.push_back(get(fmt::format("k{}", i)));
    want.push_back(got(fmt::format("k{}", i), i % 10 == 0 ? std::to_string(i) : "null"));
  }
  const std::vector<std::string> replies = h.call_all(bodies);
  REQUIRE(replies.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    CAPTURE(i);
    if (want[i].empty())
      CHECK(replies[i].find(R"({"status": "ERROR", "error": )") == 0);
    else
      CHECK(replies[i] == want[i]);
  }
}

TEST_CASE("dispatch: handle stops at the reply limit, and the rest is answered after, in order") {
  Harness h;
  // max_message 4096 and a limit of 3 of those: GETs of a 2,000-byte value
  // go in batches of 3, and handle stops once 6,144 bytes of replies wait.
  dispatch::Dispatcher limited(*h.store, *h.board, dispatch::Dispatcher::Config{4096, false, nullptr, 3 * 4096});
  const std::string value = "\"" + std::string(2000, 'v') + "\"";
  CHECK(h.call(R"({"func": "PUT", "params": {"obj": "big", "val": )" + value + "}}").find("\"ok\"") !=
        std::string::npos);
  std::vector<std::string> bodies;
  for (int i = 0; i < 20; ++i)
    bodies.push_back(i % 2 ? R"({"func": "GET", "params": {"obj": "big"}})"
                           : fmt::format(R"({{"func": "GET", "params": {{"obj": "k{}"}}}})", i));
  std::vector<dispatch::Message> messages;
  for (std::string& body : bodies) {
    body.reserve(body.size() + json::kPadding);
    messages.push_back({2, body.data(), body.size(), body.capacity()});
  }
  std::string all;
  std::size_t rounds = 0;
  for (std::size_t done = 0; done < messages.size(); ++rounds) {
    std::string out;
    const std::size_t n = limited.handle(messages.data() + done, messages.size() - done, out);
    CHECK(n >= 1);
    // The limit, plus at most one batch of replies of at most max_message.
    CHECK(out.size() < 3 * 4096 + 3 * 4096);
    done += n;
    all += out;
  }
  CHECK(rounds > 1);
  std::size_t i = 0;
  for (std::string_view rest(all); !rest.empty(); ++i) {
    const frame::DecodeResult r = frame::decode(rest, SIZE_MAX);
    REQUIRE(r.what == frame::Decoded::kMessage);
    const std::string key = i % 2 ? "big" : fmt::format("k{}", i);
    CHECK(r.body.find(fmt::format(R"("obj": "{}", "val": {})", key, i % 2 ? value : "null")) != std::string::npos);
    rest.remove_prefix(r.consumed);
  }
  CHECK(i == bodies.size());
}

TEST_CASE("dispatch: a bytes value reads as a JSON string when UTF-8, else as an error") {
  Harness h;
  store::PutOptions bytes;
  bytes.kind = store::Kind::kBytes;
  REQUIRE_OK(h.store->put("text", "h\xc3\xa9llo \"q\"\n", bytes));
  REQUIRE_OK(h.store->put("bin", std::string("\xff\xfe\x00", 3), bytes));
  CHECK(h.call(R"({"func": "GET", "params": {"obj": "text"}})") ==
        R"({"status": "OK", "response": {"func": "GET", "response": {"obj": "text", "val": "h\u00e9llo \"q\"\n"}}})");
  CHECK(h.call(R"({"func": "GET", "params": {"obj": "bin"}})") ==
        R"({"status": "ERROR", "error": "value of bin is binary: read it over RESP"})");
  // Pipelined GETs around it are answered as usual, in order.
  REQUIRE_OK(h.store->put("j", "[1]"));
  const auto replies = h.call_all({R"({"func": "GET", "params": {"obj": "j"}})",
                                   R"({"func": "GET", "params": {"obj": "bin"}})",
                                   R"({"func": "GET", "params": {"obj": "text"}})"});
  REQUIRE(replies.size() == 3);
  CHECK(replies[0].find(R"("val": [1])") != std::string::npos);
  CHECK(replies[1].find("is binary") != std::string::npos);
  CHECK(replies[2].find(R"("val": "h)") != std::string::npos);
}

TEST_CASE("dispatch: GET with encoding base64 says the kind; PUT with bytes stores bytes") {
  Harness h;
  store::PutOptions bytes;
  bytes.kind = store::Kind::kBytes;
  REQUIRE_OK(h.store->put("bin", std::string("\xff\xfe\x00", 3), bytes));
  REQUIRE_OK(h.store->put("j", "[1,  2]"));
  REQUIRE_OK(h.store->put("n", "null"));
  const auto replies = h.call_all({R"({"func": "GET", "params": {"obj": "bin", "encoding": "base64"}})",
                                   R"({"func": "GET", "params": {"obj": "j", "encoding": "base64"}})",
                                   R"({"func": "GET", "params": {"obj": "n", "encoding": "base64"}})",
                                   R"({"func": "GET", "params": {"obj": "none", "encoding": "base64"}})",
                                   R"({"func": "GET", "params": {"obj": "bin"}})"});
  REQUIRE(replies.size() == 5);
  CHECK(replies[0] == R"({"status": "OK", "response": {"func": "GET", "response": {"obj": "bin", "bytes": "//4A", "kind": "bytes"}}})");
  CHECK(replies[1] == R"({"status": "OK", "response": {"func": "GET", "response": {"obj": "j", "val": [1,  2], "kind": "json"}}})");
  CHECK(replies[2] == R"({"status": "OK", "response": {"func": "GET", "response": {"obj": "n", "val": null, "kind": "json"}}})");
  CHECK(replies[3] == R"({"status": "OK", "response": {"func": "GET", "response": {"obj": "none", "val": null, "kind": null}}})");
  CHECK(replies[4] == R"({"status": "ERROR", "error": "value of bin is binary: read it over RESP"})");

  CHECK(h.call(R"({"func": "PUT", "params": {"obj": "b2", "bytes": "AP8=", "ttl": 100}})") ==
        R"({"status": "OK", "response": {"func": "PUT", "response": {"obj": "b2", "response": "ok"}}})");
  std::string value;
  store::Kind kind = store::Kind::kJson;
  REQUIRE_OK(h.store->get("b2", &value, &kind));
  CHECK(value == std::string("\x00\xff", 2));
  CHECK(kind == store::Kind::kBytes);
  std::int64_t left = 0;
  REQUIRE_OK(h.store->ttl("b2", &left));
  CHECK(left > 99000);
  CHECK(h.call(R"({"func": "PUT", "params": {"obj": "b2", "bytes": "", "if": "absent"}})").find("not stored") !=
        std::string::npos);
  // Bad params change nothing.
  CHECK(h.call(R"({"func": "PUT", "params": {"obj": "b2", "bytes": "AP8"}})") ==
        R"x({"status": "ERROR", "error": "params.bytes must be a string of base64 (RFC 4648, padded with =)"})x");
  CHECK(h.call(R"({"func": "PUT", "params": {"obj": "b2", "bytes": "AA==", "val": 1}})") ==
        R"({"status": "ERROR", "error": "give params.val or params.bytes, not both"})");
  CHECK(h.call(R"({"func": "GET", "params": {"obj": "b2", "encoding": "hex"}})") ==
        R"({"status": "ERROR", "error": "params.encoding must be \"base64\""})");
  REQUIRE_OK(h.store->get("b2", &value, &kind));
  CHECK(value == std::string("\x00\xff", 2));
}

TEST_CASE("dispatch: INCR, EXPIRE and TTL replies") {
  Harness h;
  CHECK(h.call(R"({"func": "INCR", "params": {"obj": "c", "by": -5}})") ==
        R"({"status": "OK", "response": {"func": "INCR", "response": {"obj": "c", "val": -5}}})");
  CHECK(h.call(R"({"func": "EXPIRE", "params": {"obj": "c", "ttl": 2.5}})") ==
        R"({"status": "OK", "response": {"func": "EXPIRE", "response": {"obj": "c", "response": "ok"}}})");
  const std::string ttl = h.call(R"({"func": "TTL", "params": {"obj": "c"}})");
  CHECK(ttl.find(R"({"status": "OK", "response": {"func": "TTL", "response": {"obj": "c", "ttl": 2.)") == 0);
  CHECK(h.call(R"({"func": "TTL", "params": {"obj": "x"}})") ==
        R"({"status": "OK", "response": {"func": "TTL", "response": {"obj": "x", "ttl": -2}}})");
  CHECK(h.call(R"({"func": "PUT", "params": {"obj": "c", "val": 1, "if": "absent"}})") ==
        R"({"status": "OK", "response": {"func": "PUT", "response": {"obj": "c", "response": "not stored"}}})");
}
