#include "shmkv/store.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <sys/wait.h>

#include <csignal>

#include <fstream>

using namespace shmkv;

namespace {

// TestSegment names a segment for one test case and removes it afterwards.
struct TestSegment {
  std::string name = fmt::format("shmkv-unit-{}-{}", getpid(), counter++);
  ~TestSegment() { store::Store::remove(name); }
  static inline int counter = 0;
};

std::unique_ptr<store::Store> open(const std::string& name, std::size_t size = 1 << 20) {
  std::unique_ptr<store::Store> s;
  Status status = store::Store::open(name, size, &s);
  REQUIRE_MESSAGE(status.is_ok(), status.message());
  return s;
}

}  // namespace

TEST_CASE("store: put, get, overwrite, delete") {
  TestSegment seg;
  auto s = open(seg.name);
  CHECK(s->created());
  std::string value = "untouched";
  CHECK(s->get("k", &value).is_not_found());
  CHECK(value == "untouched");
  REQUIRE(s->put("k", "1.0").is_ok());
  REQUIRE(s->get("k", &value).is_ok());
  CHECK(value == "1.0");
  REQUIRE(s->put("k", "[2]").is_ok());
  REQUIRE(s->get("k", &value).is_ok());
  CHECK(value == "[2]");
  CHECK(s->counts().keys == 1);
  CHECK(s->del("k").is_ok());
  CHECK(s->del("k").is_not_found());
  CHECK(s->get("k", &value).is_not_found());
  CHECK(s->counts().keys == 0);
}

TEST_CASE("store: keys are bytes, embedded NUL and UTF-8 included") {
  TestSegment seg;
  auto s = open(seg.name);
  const std::string nul_key("a\0b", 3);
  REQUIRE(s->put(nul_key, "1").is_ok());
  REQUIRE(s->put("a", "2").is_ok());
  REQUIRE(s->put("\xe2\x98\x83", "3").is_ok());
  std::string value;
  REQUIRE(s->get(nul_key, &value).is_ok());
  CHECK(value == "1");
  REQUIRE(s->get("a", &value).is_ok());
  CHECK(value == "2");
  CHECK(s->counts().keys == 3);
}

TEST_CASE("store: a full store refuses the put and keeps the old value") {
  TestSegment seg;
  auto s = open(seg.name, store::kMinimumSize);
  REQUIRE(s->put("k", "\"small\"").is_ok());
  const std::string big(store::kMinimumSize, 'x');
  Status full = s->put("k", big);
  CHECK(full.code() == Status::Code::kFull);
  CHECK(full.message() == "store is full");
  std::string value;
  REQUIRE(s->get("k", &value).is_ok());
  CHECK(value == "\"small\"");

  // Filling it key by key also ends in kFull, with every stored key intact.
  int stored = 0;
  for (; stored < 100000; ++stored) {
    Status st = s->put(fmt::format("key{}", stored), std::string(100, 'v'));
    if (!st) {
      CHECK(st.code() == Status::Code::kFull);
      break;
    }
  }
  CHECK(stored > 10);
  CHECK(s->counts().keys == std::size_t(stored) + 1);
  for (int i = 0; i < stored; ++i) CHECK(s->get(fmt::format("key{}", i), &value).is_ok());
  // Deleting makes room again.
  REQUIRE(s->del("key0").is_ok());
  CHECK(s->put("again", "1").is_ok());
}

TEST_CASE("store: reopening a segment keeps its data") {
  TestSegment seg;
  {
    auto s = open(seg.name);
    REQUIRE(s->put("persist", "{\"a\": 1}").is_ok());
  }
  auto again = open(seg.name, 4 << 20);
  CHECK_FALSE(again->created());
  CHECK(again->counts().store_bytes == (1 << 20));  // the existing size wins
  std::string value;
  REQUIRE(again->get("persist", &value).is_ok());
  CHECK(value == "{\"a\": 1}");
}

TEST_CASE("store: a segment that is not a shmkv store is refused, not misread") {
  TestSegment seg;
  {
    std::ofstream junk("/dev/shm/" + seg.name, std::ios::binary);
    junk << std::string(4096, '\x5a');
  }
  std::unique_ptr<store::Store> s;
  Status status = store::Store::open(seg.name, 1 << 20, &s);
  CHECK_FALSE(status.is_ok());
  CHECK(status.message().find(seg.name) != std::string::npos);
  CHECK(s == nullptr);
}

TEST_CASE("store: scan pages through keys by prefix in byte order") {
  TestSegment seg;
  auto s = open(seg.name);
  for (const char* k : {"b/2", "a/1", "b/1", "b/10", "c", "b/\xc3\xa9", "b/Z"}) REQUIRE(s->put(k, "0").is_ok());
  store::Page page;
  REQUIRE(s->scan("b/", nullptr, 2, 1 << 20, &page).is_ok());
  CHECK(page.keys == std::vector<std::string>{"b/1", "b/10"});
  CHECK(page.more);
  const std::string_view after = page.keys.back();
  const std::string last = std::string(after);
  const std::string_view cursor = last;
  REQUIRE(s->scan("b/", &cursor, 10, 1 << 20, &page).is_ok());
  CHECK(page.keys == std::vector<std::string>{"b/2", "b/Z", "b/\xc3\xa9"});
  CHECK_FALSE(page.more);
  REQUIRE(s->scan("", nullptr, 100, 4, &page).is_ok());
  CHECK(page.keys == std::vector<std::string>{"a/1"});
  CHECK(page.more);
}

TEST_CASE("store: remove deletes the segment") {
  TestSegment seg;
  CHECK_FALSE(store::Store::exists(seg.name));
  { auto s = open(seg.name); }
  CHECK(store::Store::exists(seg.name));
  CHECK(store::Store::remove(seg.name).is_ok());
  CHECK_FALSE(store::Store::exists(seg.name));
  CHECK(store::Store::remove(seg.name).is_not_found());
}

TEST_CASE("store: a lock whose holder died is detected, and salvage copies every entry") {
  TestSegment seg;
  TestSegment fresh;
  auto s = open(seg.name);
  for (int i = 0; i < 500; ++i) REQUIRE(s->put(fmt::format("k{:04}", i), fmt::format("[{}]", i)).is_ok());
  CHECK(s->check_lock(100).is_ok());

  // A child takes the lock and dies holding it, as a killed worker would.
  const pid_t child = fork();
  if (child == 0) {
    signal(SIGABRT, SIG_DFL);  // doctest's crash handler would report a failure
    s->debug_crash_in_store();
  }
  int status = 0;
  waitpid(child, &status, 0);
  REQUIRE(WIFSIGNALED(status));
  CHECK(s->check_lock(100).code() == Status::Code::kCorrupt);
  std::string value;
  CHECK(s->get("k0001", &value).code() == Status::Code::kIo);  // unusable for good

  std::size_t copied = 0;
  REQUIRE(s->salvage_into(fresh.name, &copied).is_ok());
  CHECK(copied == 500);
  REQUIRE(store::Store::replace(fresh.name, seg.name).is_ok());
  CHECK_FALSE(store::Store::exists(fresh.name));
  auto rebuilt = open(seg.name);
  CHECK_FALSE(rebuilt->created());
  CHECK(rebuilt->check_lock(100).is_ok());
  CHECK(rebuilt->counts().keys == 500);
  for (int i = 0; i < 500; ++i) {
    REQUIRE(rebuilt->get(fmt::format("k{:04}", i), &value).is_ok());
    CHECK(value == fmt::format("[{}]", i));
  }
  CHECK(rebuilt->put("after", "1").is_ok());
}

TEST_CASE("store: a lock held by a live process is busy, not broken") {
  TestSegment seg;
  auto s = open(seg.name);
  int ready[2];
  REQUIRE(pipe(ready) == 0);
  const pid_t child = fork();
  if (child == 0) {
    close(ready[0]);
    (void)!write(ready[1], "x", 1);
    s->debug_hold_lock(2000);
    _exit(0);
  }
  close(ready[1]);
  char byte;
  (void)!read(ready[0], &byte, 1);
  usleep(100000);  // the child is in its hold
  CHECK(s->check_lock(50).code() == Status::Code::kBusy);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  close(ready[0]);
}
