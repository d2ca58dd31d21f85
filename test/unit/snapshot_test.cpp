#include "store/snapshot.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "check_ok.hpp"

using namespace shmkv;
namespace fs = std::filesystem;

namespace {

// TestDir is a directory of its own for one test case, removed afterwards.
struct TestDir {
  fs::path path = fs::temp_directory_path() / fmt::format("shmkv-snapshot-unit-{}-{}", getpid(), counter++);
  TestDir() { fs::create_directories(path); }
  ~TestDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  std::string file(const char* name) const { return (path / name).string(); }
  static inline int counter = 0;
};

struct Owned {
  std::string key, value;
  snapshot::Kind kind;
  std::uint64_t expires_ms;
};

std::vector<Owned> sample() {
  std::vector<Owned> records = {
      {"", "null", snapshot::Kind::kJson, 0},
      {"a", "\"text\"", snapshot::Kind::kJson, 0},
      {"bytes", std::string("\0\xff\x01zz", 5), snapshot::Kind::kBytes, 1893456000000},
      {std::string("k\0ey", 4), "[1, 2, {\"x\": 3}]", snapshot::Kind::kJson, 42},
  };
  records.push_back({std::string(300, 'k'), std::string(70000, 'v'), snapshot::Kind::kJson, 0});
  return records;
}

Status write(const std::string& path, const std::vector<Owned>& records, std::uint64_t* bytes) {
  std::unique_ptr<snapshot::Writer> w;
  if (Status s = snapshot::Writer::open(path, records.size(), &w); !s) return s;
  for (const Owned& r : records)
    if (Status s = w->add({r.key, r.value, r.kind, r.expires_ms}); !s) return s;
  return w->commit(bytes);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<Owned> read_all(snapshot::File& file) {
  std::vector<Owned> out;
  snapshot::Record r;
  while (file.next(&r)) out.push_back({std::string(r.key), std::string(r.value), r.kind, r.expires_ms});
  return out;
}

int entries(const fs::path& dir) {
  int n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

TEST_CASE("snapshot: round trip keeps every record's bytes, kind and expiry") {
  TestDir dir;
  const std::string path = dir.file("s.snap");
  const auto records = sample();
  std::uint64_t bytes = 0;
  REQUIRE_OK(write(path, records, &bytes));
  CHECK(bytes == fs::file_size(path));
  CHECK((fs::status(path).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
  CHECK(entries(dir.path) == 1);  // no temporary file left
  snapshot::File file;
  REQUIRE_OK(snapshot::File::read(path, &file));
  CHECK(file.count() == records.size());
  const auto back = read_all(file);
  REQUIRE(back.size() == records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    CHECK(back[i].key == records[i].key);
    CHECK(back[i].value == records[i].value);
    CHECK(back[i].kind == records[i].kind);
    CHECK(back[i].expires_ms == records[i].expires_ms);
  }
}

TEST_CASE("snapshot: an empty store is a valid snapshot; a missing one is not found") {
  TestDir dir;
  std::uint64_t bytes = 0;
  REQUIRE_OK(write(dir.file("e.snap"), {}, &bytes));
  CHECK(bytes == snapshot::kHeaderSize + snapshot::kTrailerSize);
  snapshot::File file;
  REQUIRE_OK(snapshot::File::read(dir.file("e.snap"), &file));
  CHECK(file.count() == 0);
  CHECK(read_all(file).empty());
  CHECK(snapshot::File::read(dir.file("absent.snap"), &file).is_not_found());
}

TEST_CASE("snapshot: every truncation is refused, naming the file") {
  TestDir dir;
  const std::string path = dir.file("t.snap");
  std::uint64_t bytes = 0;
  auto records = sample();
  records.pop_back();  // keep the file small: every length is tried
  REQUIRE_OK(write(path, records, &bytes));
  const std::string whole = slurp(path);
  for (std::size_t length = 0; length < whole.size(); ++length) {
    snapshot::File file;
    const Status s = snapshot::File::check(whole.substr(0, length), path, &file);
    CHECK_MESSAGE(s.code() == Status::Code::kCorrupt, "length ", length);
    CHECK(s.message().find(path) != std::string::npos);
  }
}

TEST_CASE("snapshot: a flipped bit anywhere is refused") {
  TestDir dir;
  const std::string path = dir.file("f.snap");
  std::uint64_t bytes = 0;
  auto records = sample();
  records.pop_back();
  REQUIRE_OK(write(path, records, &bytes));
  const std::string whole = slurp(path);
  for (std::size_t at = 0; at < whole.size(); ++at) {
    std::string damaged = whole;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x10);
    snapshot::File file;
    CHECK_MESSAGE(snapshot::File::check(damaged, path, &file).code() == Status::Code::kCorrupt, "byte ", at);
  }
  // Bytes appended after the trailer move it: refused too.
  snapshot::File file;
  CHECK(snapshot::File::check(whole + "x", path, &file).code() == Status::Code::kCorrupt);
}

TEST_CASE("snapshot: a record count that lies is refused even with a good checksum") {
  // Written through the Writer's own checks: announcing 2 and adding 1 fails
  // at commit, and adding 3 fails at the third.
  TestDir dir;
  std::unique_ptr<snapshot::Writer> w;
  REQUIRE_OK(snapshot::Writer::open(dir.file("c.snap"), 2, &w));
  REQUIRE_OK(w->add({"k", "1", snapshot::Kind::kJson, 0}));
  std::uint64_t bytes = 0;
  CHECK(w->commit(&bytes).code() == Status::Code::kInvalid);
  w.reset();
  CHECK(entries(dir.path) == 0);
  REQUIRE_OK(snapshot::Writer::open(dir.file("c.snap"), 1, &w));
  REQUIRE_OK(w->add({"k", "1", snapshot::Kind::kJson, 0}));
  CHECK(!w->add({"k2", "1", snapshot::Kind::kJson, 0}));
}

TEST_CASE("snapshot: a failed write leaves the previous snapshot as it was") {
  TestDir dir;
  const std::string path = dir.file("p.snap");
  std::uint64_t bytes = 0;
  REQUIRE_OK(write(path, {{"old", "1", snapshot::Kind::kJson, 0}}, &bytes));
  const std::string before = slurp(path);

  SUBCASE("the disk fills up") {
    // RLIMIT_FSIZE makes write() fail with EFBIG past 64 KiB, as a full
    // disk makes it fail with ENOSPC: the same path through the Writer.
    rlimit old{};
    getrlimit(RLIMIT_FSIZE, &old);
    auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit small = old;
    small.rlim_cur = 64 << 10;
    REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
    std::vector<Owned> big;
    for (int i = 0; i < 100; ++i) big.push_back({fmt::format("k{}", i), std::string(4096, 'x'), snapshot::Kind::kJson, 0});
    const Status s = write(path, big, &bytes);
    setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, old_handler);
    CHECK(s.code() == Status::Code::kIo);
    CHECK(s.message().find("File too large") != std::string::npos);
  }
  SUBCASE("the directory is gone") {
    const Status s = write(dir.file("gone/p.snap"), {{"new", "2", snapshot::Kind::kJson, 0}}, &bytes);
    CHECK(s.code() == Status::Code::kIo);
    CHECK(s.message().find("gone") != std::string::npos);
  }
  CHECK(slurp(path) == before);
  CHECK(entries(dir.path) == 1);  // the temporary file was removed
}

TEST_CASE("snapshot: temporaries a crash left are removed, nothing else") {
  TestDir dir;
  const std::string path = dir.file("x.snap");
  std::uint64_t bytes = 0;
  REQUIRE_OK(write(path, {{"k", "1", snapshot::Kind::kJson, 0}}, &bytes));
  std::ofstream(dir.file(".x.snap.tmp-123.abcd")) << "half";
  std::ofstream(dir.file(".y.snap.tmp-123.abcd")) << "another snapshot's";
  std::ofstream(dir.file("x.snap.bak")) << "the operator's";
  int removed = 0;
  REQUIRE_OK(snapshot::remove_temporaries(path, &removed));
  CHECK(removed == 1);
  CHECK(!fs::exists(dir.file(".x.snap.tmp-123.abcd")));
  CHECK(fs::exists(dir.file(".y.snap.tmp-123.abcd")));
  CHECK(fs::exists(dir.file("x.snap.bak")));
  CHECK(fs::exists(path));
}

TEST_CASE("snapshot: a planted symlink at the temporary name is not followed") {
  // The temporary name is unpredictable and created with O_EXCL|O_NOFOLLOW;
  // a symlink in place of the snapshot itself is replaced, not written through.
  TestDir dir;
  const std::string victim = dir.file("victim");
  std::ofstream(victim) << "precious";
  fs::create_symlink(victim, dir.file("l.snap"));
  std::uint64_t bytes = 0;
  REQUIRE_OK(write(dir.file("l.snap"), {{"k", "1", snapshot::Kind::kJson, 0}}, &bytes));
  CHECK(slurp(victim) == "precious");
  CHECK(!fs::is_symlink(dir.file("l.snap")));
}
