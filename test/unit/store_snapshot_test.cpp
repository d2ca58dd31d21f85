#include "store/store.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>

#include "check_ok.hpp"

using namespace shmkv;
namespace fs = std::filesystem;

namespace {

struct Fixture {
  std::string name = fmt::format("shmkv-unit-snap-{}-{}", getpid(), counter);
  std::string name2 = fmt::format("shmkv-unit-snap-{}-{}b", getpid(), counter);
  fs::path dir = fs::temp_directory_path() / fmt::format("shmkv-unit-snap-{}-{}", getpid(), counter++);
  Fixture() { fs::create_directories(dir); }
  ~Fixture() {
    store::Store::remove(name);
    store::Store::remove(name2);
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
  static inline int counter = 0;
};

std::unique_ptr<store::Store> open(const std::string& name, std::size_t size) {
  std::unique_ptr<store::Store> s;
  REQUIRE_OK(store::Store::open(name, size, &s));
  return s;
}

// save writes the store's snapshot to path the way the daemon does.
Status save(store::Store& store, const std::string& path, std::size_t* written) {
  std::unique_ptr<store::SnapshotCopy> copy;
  std::uint64_t lock_us = 0;
  if (Status s = store.snapshot_copy(&copy, &lock_us); !s) return s;
  std::vector<snapshot::Record> records;
  snapshot::Record r;
  while (copy->next(&r)) records.push_back(r);
  if (!copy->status()) return copy->status();
  std::unique_ptr<snapshot::Writer> w;
  if (Status s = snapshot::Writer::open(path, records.size(), &w); !s) return s;
  for (const auto& rec : records)
    if (Status s = w->add(rec); !s) return s;
  std::uint64_t bytes = 0;
  *written = records.size();
  return w->commit(&bytes);
}

}  // namespace

TEST_CASE("store snapshot: a copy saved and loaded into a new store gives the same map") {
  Fixture f;
  auto a = open(f.name, 8 << 20);
  std::map<std::string, std::string> expected;
  std::mt19937 random(7);
  for (int i = 0; i < 20000; ++i) {
    std::string key = fmt::format("key{:06}", random() % 30000);
    std::string value = fmt::format("[{}, \"{}\"]", i, std::string(random() % 40, 'v'));
    REQUIRE_OK(a->put(key, value));
    expected[key] = value;
  }
  for (int i = 0; i < 3000; ++i) {  // deletes leave free blocks among the used ones
    std::string key = fmt::format("key{:06}", random() % 30000);
    if (a->del(key)) expected.erase(key);
  }
  REQUIRE_OK(a->put(std::string("\0bin", 4), "\"nul in the key\""));
  expected[std::string("\0bin", 4)] = "\"nul in the key\"";
  const std::string path = (f.dir / "s.snap").string();
  std::size_t written = 0;
  REQUIRE_OK(save(*a, path, &written));
  CHECK(written == expected.size());

  auto b = open(f.name2, 8 << 20);
  snapshot::File file;
  REQUIRE_OK(snapshot::File::read(path, &file));
  std::size_t loaded = 0, expired = 0;
  REQUIRE_OK(b->load_snapshot(file, 0, &loaded, &expired));
  CHECK(loaded == expected.size());
  CHECK(expired == 0);
  CHECK(b->counts().keys == expected.size());
  for (const auto& [key, value] : expected) {
    std::string got;
    REQUIRE_OK(b->get(key, &got));
    CHECK(got == value);
  }
  // The loaded store works as any other: its index finds, replaces, deletes.
  REQUIRE_OK(b->put("key000001-new", "1"));
  std::string got;
  REQUIRE_OK(b->get("key000001-new", &got));
}

TEST_CASE("store snapshot: the copy is a point in time; later changes are not in it") {
  Fixture f;
  auto a = open(f.name, 1 << 20);
  REQUIRE_OK(a->put("before", "1"));
  std::unique_ptr<store::SnapshotCopy> copy;
  std::uint64_t lock_us = 0;
  REQUIRE_OK(a->snapshot_copy(&copy, &lock_us));
  REQUIRE_OK(a->put("after", "2"));
  REQUIRE_OK(a->put("before", "3"));
  CHECK(copy->count() == 1);
  snapshot::Record r;
  REQUIRE(copy->next(&r));
  CHECK(r.key == "before");
  CHECK(r.value == "1");
  CHECK(r.kind == snapshot::Kind::kJson);
  CHECK(r.expires_ms == 0);
  CHECK(!copy->next(&r));
  CHECK_OK(copy->status());
}

TEST_CASE("store snapshot: a store too small for the snapshot says so") {
  Fixture f;
  auto a = open(f.name, 4 << 20);
  for (int i = 0; i < 5000; ++i) REQUIRE_OK(a->put(fmt::format("k{}", i), std::string(300, '1')));
  const std::string path = (f.dir / "big.snap").string();
  std::size_t written = 0;
  REQUIRE_OK(save(*a, path, &written));
  auto b = open(f.name2, 256 << 10);
  snapshot::File file;
  REQUIRE_OK(snapshot::File::read(path, &file));
  std::size_t loaded = 0, expired = 0;
  const Status s = b->load_snapshot(file, 0, &loaded, &expired);
  CHECK(s.code() == Status::Code::kFull);
  CHECK(s.message().find("--memory") != std::string::npos);
}

TEST_CASE("store snapshot: expired records are not loaded; a key twice is refused") {
  Fixture f;
  const std::string path = (f.dir / "e.snap").string();
  std::unique_ptr<snapshot::Writer> w;
  REQUIRE_OK(snapshot::Writer::open(path, 3, &w));
  REQUIRE_OK(w->add({"a", "1", snapshot::Kind::kJson, 1000}));
  REQUIRE_OK(w->add({"b", "2", snapshot::Kind::kJson, 0}));
  REQUIRE_OK(w->add({"c", "3", snapshot::Kind::kJson, 5000}));
  std::uint64_t bytes = 0;
  REQUIRE_OK(w->commit(&bytes));
  auto b = open(f.name2, 1 << 20);
  snapshot::File file;
  REQUIRE_OK(snapshot::File::read(path, &file));
  std::size_t loaded = 0, expired = 0;
  REQUIRE_OK(b->load_snapshot(file, 2000, &loaded, &expired));
  CHECK(loaded == 2);
  CHECK(expired == 1);
  std::string v;
  CHECK(b->get("a", &v).is_not_found());

  REQUIRE_OK(snapshot::Writer::open(path, 2, &w));
  REQUIRE_OK(w->add({"a", "1", snapshot::Kind::kJson, 0}));
  REQUIRE_OK(w->add({"a", "2", snapshot::Kind::kJson, 0}));
  REQUIRE_OK(w->commit(&bytes));
  auto c = open(f.name, 1 << 20);
  REQUIRE_OK(snapshot::File::read(path, &file));
  CHECK(c->load_snapshot(file, 0, &loaded, &expired).code() == Status::Code::kCorrupt);
}
