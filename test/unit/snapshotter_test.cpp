#include "daemon/snapshotter.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>

#include "check_ok.hpp"

using namespace shmkv;
namespace fs = std::filesystem;

namespace {

// write_snapshot writes records as a snapshot, checksum and all, as one
// made by hand would be: the writer does not look at what it writes.
void write_snapshot(const std::string& path, const std::vector<snapshot::Record>& records) {
  std::unique_ptr<snapshot::Writer> w;
  REQUIRE_OK(snapshot::Writer::open(path, records.size(), &w));
  for (const auto& r : records) REQUIRE_OK(w->add(r));
  std::uint64_t bytes = 0;
  REQUIRE_OK(w->commit(&bytes));
}

}  // namespace

TEST_CASE("snapshotter: a snapshot with a JSON value that is not JSON, or a key not UTF-8, is refused whole") {
  const std::string name = fmt::format("shmkv-unit-snapshotter-{}", getpid());
  const fs::path dir = fs::temp_directory_path() / name;
  fs::create_directories(dir);
  const std::string path = (dir / "s.snap").string();
  using snapshot::Kind;
  const snapshot::Record good{"good", "{\"a\": 1}", Kind::kJson, 0};
  const snapshot::Record bytes{"raw", "1}}}, \"x\": {", Kind::kBytes, 0};  // bytes may be anything
  struct Case {
    snapshot::Record bad;
    const char* error;
  };
  for (const Case& c : {Case{{"inject", "1}}}, \"x\": {", Kind::kJson, 0}, "the value of key \"inject\" is not JSON text"},
                        Case{{"empty", "", Kind::kJson, 0}, "the value of key \"empty\" is not JSON text"},
                        Case{{"\xff\xfe", "1", Kind::kJson, 0}, "key \"\\xff\\xfe\" is not valid UTF-8"}}) {
    CAPTURE(c.error);
    write_snapshot(path, {bytes, good, c.bad});
    std::unique_ptr<store::Store> store;
    REQUIRE_OK(store::Store::open(name, 1 << 20, &store));
    REQUIRE(store->created());
    std::size_t loaded = 0;
    const Status s = snapshotter::load_at_start(*store, path, &loaded);
    CHECK(s.code() == Status::Code::kCorrupt);
    CHECK(s.message().find(c.error) != std::string::npos);
    CHECK(s.message().find("move it aside") != std::string::npos);
    store.reset();
    store::Store::remove(name);
  }
  write_snapshot(path, {bytes, good});
  std::unique_ptr<store::Store> store;
  REQUIRE_OK(store::Store::open(name, 1 << 20, &store));
  std::size_t loaded = 0;
  REQUIRE_OK(snapshotter::load_at_start(*store, path, &loaded));
  CHECK(loaded == 2);
  store.reset();
  store::Store::remove(name);
  fs::remove_all(dir);
}
