// Expiry, INCR, conditional PUT and value kinds in the store (store.cpp,
// store_recovery.cpp), against an injected clock: no test sleeps.
#include "store/store.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>

#include "check_ok.hpp"

using namespace shmkv;

namespace {

struct TestSegment {
  std::string name = fmt::format("shmkv-expiry-{}-{}", getpid(), counter++);
  ~TestSegment() { store::Store::remove(name); }
  static inline int counter = 0;
};

// TestClock is the store's clock, moved by hand.
struct TestClock {
  std::int64_t now = 1'700'000'000'000;  // a wall-clock time in ms
  store::Clock clock() {
    return [this] { return now; };
  }
};

std::unique_ptr<store::Store> open(const std::string& name, TestClock& clock, std::size_t size = 1 << 20) {
  std::unique_ptr<store::Store> s;
  REQUIRE_OK(store::Store::open(name, size, &s));
  s->set_clock(clock.clock());
  return s;
}

store::PutOptions ttl(std::int64_t ms) {
  store::PutOptions o;
  o.ttl_ms = ms;
  return o;
}

store::PutOptions when(store::Condition c) {
  store::PutOptions o;
  o.condition = c;
  return o;
}

}  // namespace

TEST_CASE("store expiry: a key lives until exactly its expiry time") {
  TestSegment seg;
  TestClock clock;
  auto s = open(seg.name, clock);
  REQUIRE_OK(s->put("k", "1", ttl(1000)));
  std::string value;
  std::int64_t left = 0;
  REQUIRE_OK(s->ttl("k", &left));
  CHECK(left == 1000);
  clock.now += 999;
  REQUIRE_OK(s->get("k", &value));
  CHECK(value == "1");
  REQUIRE_OK(s->ttl("k", &left));
  CHECK(left == 1);
  clock.now += 1;  // the expiry time itself: gone
  CHECK(s->get("k", &value).is_not_found());
  CHECK(s->ttl("k", &left).is_not_found());
  CHECK(s->expire("k", 5000).is_not_found());
  store::Page page;
  REQUIRE_OK(s->scan("", nullptr, 10, 1000, &page));
  CHECK(page.keys.empty());
  // Still in the map until the sweep or a write removes it.
  CHECK(s->counts().keys == 1);
  CHECK(s->counts().keys_with_ttl == 1);
  CHECK(s->del("k").is_not_found());
  CHECK(s->counts().keys == 0);
  CHECK(s->counts().keys_with_ttl == 0);
  CHECK(s->counts().expired_total == 1);
}

TEST_CASE("store expiry: a PUT without ttl removes the expiry, with one sets it anew") {
  TestSegment seg;
  TestClock clock;
  auto s = open(seg.name, clock);
  std::int64_t left = 0;
  REQUIRE_OK(s->put("k", "1", ttl(1000)));
  REQUIRE_OK(s->put("k", "2"));
  REQUIRE_OK(s->ttl("k", &left));
  CHECK(left == -1);
  CHECK(s->counts().keys_with_ttl == 0);
  REQUIRE_OK(s->put("k", "3", ttl(5000)));
  clock.now += 2000;
  REQUIRE_OK(s->ttl("k", &left));
  CHECK(left == 3000);
  CHECK(s->counts().keys_with_ttl == 1);
  CHECK(s->ttl("absent", &left).is_not_found());
}

TEST_CASE("store expiry: EXPIRE sets, moves and removes an expiry") {
  TestSegment seg;
  TestClock clock;
  auto s = open(seg.name, clock);
  std::int64_t left = 0;
  std::string value;
  CHECK(s->expire("k", 1000).is_not_found());
  REQUIRE_OK(s->put("k", R"({"a": [1, 2]})"));
  REQUIRE_OK(s->expire("k", 1000));  // the node gains a head
  REQUIRE_OK(s->ttl("k", &left));
  CHECK(left == 1000);
  REQUIRE_OK(s->expire("k", 60000));  // the same head, a new time
  REQUIRE_OK(s->ttl("k", &left));
  CHECK(left == 60000);
  clock.now += 30000;
  REQUIRE_OK(s->expire("k", 0));  // the head goes
  REQUIRE_OK(s->ttl("k", &left));
  CHECK(left == -1);
  CHECK(s->counts().keys_with_ttl == 0);
  clock.now += 1000000;
  REQUIRE_OK(s->get("k", &value));
  CHECK(value == R"({"a": [1, 2]})");
}

TEST_CASE("store expiry: if absent and if present, an expired key counting as absent") {
  TestSegment seg;
  TestClock clock;
  auto s = open(seg.name, clock);
  std::string value;
  bool stored = true;
  REQUIRE_OK(s->put("k", "1", when(store::Condition::kIfPresent), &stored));
  CHECK_FALSE(stored);
  CHECK(s->get("k", &value).is_not_found());
  REQUIRE_OK(s->put("k", "1", when(store::Condition::kIfAbsent), &stored));
  CHECK(stored);
  REQUIRE_OK(s->put("k", "2", when(store::Condition::kIfAbsent), &stored));
  CHECK_FALSE(stored);
  REQUIRE_OK(s->get("k", &value));
  CHECK(value == "1");
  REQUIRE_OK(s->put("k", "3", when(store::Condition::kIfPresent), &stored));
  CHECK(stored);
  REQUIRE_OK(s->get("k", &value));
  CHECK(value == "3");

  store::PutOptions lease = when(store::Condition::kIfAbsent);
  lease.ttl_ms = 500;
  REQUIRE_OK(s->put("lock", "\"a\"", lease, &stored));
  CHECK(stored);
  clock.now += 499;
  REQUIRE_OK(s->put("lock", "\"b\"", lease, &stored));
  CHECK_FALSE(stored);
  clock.now += 1;
  REQUIRE_OK(s->put("lock", "\"b\"", when(store::Condition::kIfPresent), &stored));
  CHECK_FALSE(stored);  // expired: not present
  REQUIRE_OK(s->put("lock", "\"b\"", lease, &stored));
  CHECK(stored);
  REQUIRE_OK(s->get("lock", &value));
  CHECK(value == "\"b\"");
  CHECK(s->counts().expired_total == 1);
}

TEST_CASE("store INCR: counts from 0, refuses what is no int64, keeps the expiry") {
  TestSegment seg;
  TestClock clock;
  auto s = open(seg.name, clock);
  std::int64_t n = 0;
  std::string value;
  REQUIRE_OK(s->incr("c", 1, &n));
  CHECK(n == 1);
  REQUIRE_OK(s->incr("c", -11, &n));
  CHECK(n == -10);
  REQUIRE_OK(s->get("c", &value));
  CHECK(value == "-10");

  for (const char* bad : {"1.0", "1e3", "\"5\"", "[1]", "null", "true", "9223372036854775808",
                          "-9223372036854775809", "12345678901234567890123"}) {
    CAPTURE(bad);
    REQUIRE_OK(s->put("bad", bad));
    const Status st = s->incr("bad", 1, &n);
    CHECK(st.code() == Status::Code::kInvalid);
    CHECK(st.message().find("not an integer in signed 64-bit range") != std::string::npos);
    REQUIRE_OK(s->get("bad", &value));
    CHECK(value == bad);
  }

  REQUIRE_OK(s->put("max", "9223372036854775806"));
  REQUIRE_OK(s->incr("max", 1, &n));
  CHECK(n == INT64_MAX);
  CHECK(s->incr("max", 1, &n).code() == Status::Code::kInvalid);
  REQUIRE_OK(s->get("max", &value));
  CHECK(value == "9223372036854775807");
  REQUIRE_OK(s->put("min", "-9223372036854775808"));
  CHECK(s->incr("min", -1, &n).code() == Status::Code::kInvalid);
  REQUIRE_OK(s->incr("min", INT64_MAX, &n));
  CHECK(n == -1);

  std::int64_t left = 0;
  REQUIRE_OK(s->put("t", "41", ttl(1000)));
  clock.now += 400;
  REQUIRE_OK(s->incr("t", 1, &n));
  CHECK(n == 42);
  REQUIRE_OK(s->ttl("t", &left));
  CHECK(left == 600);  // the expiry kept, not restarted
  clock.now += 600;
  REQUIRE_OK(s->incr("t", 1, &n));  // expired: counts from 0, no expiry now
  CHECK(n == 1);
  REQUIRE_OK(s->ttl("t", &left));
  CHECK(left == -1);
}

TEST_CASE("store kinds: a value remembers whether it is JSON text or bytes") {
  TestSegment seg;
  TestSegment fresh;
  TestClock clock;
  auto s = open(seg.name, clock);
  store::PutOptions bytes;
  bytes.kind = store::Kind::kBytes;
  const std::string binary("\xff\x00\x01", 3);
  REQUIRE_OK(s->put("b", binary, bytes));
  REQUIRE_OK(s->put("j", "\"x\""));
  std::string value;
  store::Kind kind = store::Kind::kJson;
  REQUIRE_OK(s->get("b", &value, &kind));
  CHECK(value == binary);
  CHECK(kind == store::Kind::kBytes);
  REQUIRE_OK(s->get("j", &value, &kind));
  CHECK(kind == store::Kind::kJson);
  // INCR reads bytes that spell an integer, and stores a JSON integer.
  REQUIRE_OK(s->put("n", "41", bytes));
  std::int64_t n = 0;
  REQUIRE_OK(s->incr("n", 1, &n));
  REQUIRE_OK(s->get("n", &value, &kind));
  CHECK(value == "42");
  CHECK(kind == store::Kind::kJson);
  // EXPIRE keeps the kind when it copies the node.
  REQUIRE_OK(s->expire("b", 10000));
  REQUIRE_OK(s->get("b", &value, &kind));
  CHECK(kind == store::Kind::kBytes);
  CHECK(value == binary);

  // Salvage copies kinds and expiry times.
  std::size_t copied = 0, segment_bytes = 0;
  REQUIRE_OK(s->salvage_into(fresh.name, &copied, &segment_bytes));
  CHECK(copied == 3);
  auto rebuilt = open(fresh.name, clock);
  REQUIRE_OK(rebuilt->get("b", &value, &kind));
  CHECK(kind == store::Kind::kBytes);
  CHECK(value == binary);
  std::int64_t left = 0;
  REQUIRE_OK(rebuilt->ttl("b", &left));
  CHECK(left == 10000);
  CHECK(rebuilt->counts().keys_with_ttl == 1);
  clock.now += 10000;
  CHECK(rebuilt->get("b", &value).is_not_found());
  std::size_t removed = 0;
  bool more = true;
  REQUIRE_OK(rebuilt->sweep(64, &removed, &more));
  CHECK(removed == 1);
  CHECK_FALSE(more);
}

TEST_CASE("store expiry: an expiry is wall-clock, and outlives closing the store") {
  TestSegment seg;
  TestClock clock;
  {
    auto s = open(seg.name, clock);
    REQUIRE_OK(s->put("k", "1", ttl(5000)));
  }
  clock.now += 4000;
  auto s = open(seg.name, clock);
  std::int64_t left = 0;
  REQUIRE_OK(s->ttl("k", &left));
  CHECK(left == 1000);
  clock.now += 1000;
  std::string value;
  CHECK(s->get("k", &value).is_not_found());
}

TEST_CASE("store expiry: a sweep of 100,000 expired keys goes in steps of at most max_keys") {
  TestSegment seg;
  TestClock clock;
  auto s = open(seg.name, clock, std::size_t(64) << 20);
  constexpr int kExpired = 100000;
  constexpr int kLiving = 20000;
  for (int i = 0; i < kLiving; ++i)
    REQUIRE_OK(s->put(fmt::format("living-{:08}", i), "1", ttl(i % 2 ? 3'600'000 : 0)));
  const std::size_t free_before = s->counts().free_bytes;
  for (int i = 0; i < kExpired; ++i)
    REQUIRE_OK(s->put(fmt::format("expiring-{:07}", i), R"("value of thirty-two bytes......")", ttl(1000 + i % 500)));
  const std::size_t free_full = s->counts().free_bytes;
  CHECK(s->counts().keys_with_ttl == kExpired + kLiving / 2);

  std::size_t removed = 0;
  bool more = true;
  REQUIRE_OK(s->sweep(64, &removed, &more));  // none due yet
  CHECK(removed == 0);
  CHECK_FALSE(more);

  clock.now += 1500;  // all of them due
  constexpr std::size_t kStep = 64;
  std::size_t steps = 0;
  std::size_t total = 0;
  do {
    REQUIRE_OK(s->sweep(kStep, &removed, &more));
    REQUIRE(removed <= kStep);  // the bound on one hold of the lock
    total += removed;
    ++steps;
  } while (more);
  CHECK(total == kExpired);
  CHECK(steps == (kExpired + kStep - 1) / kStep);  // every step but the last removed a full kStep
  const store::Counts c = s->counts();
  CHECK(c.keys == kLiving);
  CHECK(c.keys_with_ttl == kLiving / 2);
  CHECK(c.expired_total == kExpired);
  // The memory came back: what the expiring keys took is free again (the
  // index that grew for them stays).
  CHECK(c.free_bytes > free_full + (free_before - free_full) * 9 / 10);
  std::string value;
  REQUIRE_OK(s->get("living-00000001", &value));
}
