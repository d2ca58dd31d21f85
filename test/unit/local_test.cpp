// Local readers (src/local, include/shmkv/local.h and local.hpp) against a
// Store in this process: what they read is what the store holds, kinds and
// expiry included; a retired segment is opened again; damaged images and a
// change under way end in an error, never a crash.
#include "shmkv/local.h"
#include "shmkv/local.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <thread>

#include "check_ok.hpp"
#include "local/image.hpp"
#include "store/segment_format.hpp"
#include "store/store.hpp"

using namespace shmkv;

namespace {

struct TestSegment {
  std::string name = fmt::format("shmkv-local-unit-{}-{}", getpid(), counter++);
  ~TestSegment() { store::Store::remove(name); }
  static inline int counter = 0;
};

std::unique_ptr<store::Store> open_store(const std::string& name, std::size_t size = 1 << 20) {
  std::unique_ptr<store::Store> s;
  REQUIRE_OK(store::Store::open(name, size, &s));
  return s;
}

std::unique_ptr<local::Reader> open_reader(const std::string& name) {
  std::unique_ptr<local::Reader> r;
  REQUIRE_OK(local::Reader::open(name, &r));
  return r;
}

// An image: a copy of a segment's bytes, 8-byte aligned, that a test may
// damage at will.
struct ImageCopy {
  std::vector<std::uint64_t> words;
  explicit ImageCopy(const std::string& name) {
    std::ifstream in("/dev/shm/" + name, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    words.resize((bytes.size() + 7) / 8);
    std::memcpy(words.data(), bytes.data(), bytes.size());
  }
  char* data() { return reinterpret_cast<char*>(words.data()); }
  std::size_t size() const { return words.size() * 8; }
};

}  // namespace

TEST_CASE("local: get reads each value with its kind, as the store holds it") {
  TestSegment seg;
  auto s = open_store(seg.name);
  REQUIRE_OK(s->put("colour", "\"blue\""));
  REQUIRE_OK(s->put("n", "42"));
  store::PutOptions bytes;
  bytes.kind = store::Kind::kBytes;
  REQUIRE_OK(s->put("raw", std::string("a\0b\xff", 4), bytes));
  REQUIRE_OK(s->put("", "\"empty key\""));

  auto r = open_reader(seg.name);
  std::string value;
  local::Kind kind = local::Kind::kBytes;
  REQUIRE_OK(r->get("colour", &value, &kind));
  CHECK(value == "\"blue\"");
  CHECK(kind == local::Kind::kJson);
  REQUIRE_OK(r->get("raw", &value, &kind));
  CHECK(value == std::string("a\0b\xff", 4));
  CHECK(kind == local::Kind::kBytes);
  REQUIRE_OK(r->get("", &value));
  CHECK(value == "\"empty key\"");
  value = "untouched";
  CHECK(r->get("absent", &value).is_not_found());
  CHECK(r->get("colou", &value).is_not_found());
  CHECK(value == "untouched");

  // A change made after the reader opened is seen at once: same memory.
  REQUIRE_OK(s->put("n", "43"));
  REQUIRE_OK(r->get("n", &value));
  CHECK(value == "43");
  CHECK_OK(s->del("n"));
  CHECK(r->get("n", &value).is_not_found());
  std::int64_t sum = 0;
  REQUIRE_OK(s->incr("n", 5, &sum));
  REQUIRE_OK(r->get("n", &value, &kind));
  CHECK(value == "5");
  CHECK(kind == local::Kind::kJson);
}

TEST_CASE("local: every key of a store that grows its index, and keys() equals the store's scan") {
  TestSegment seg;
  auto s = open_store(seg.name, 16 << 20);
  auto r = open_reader(seg.name);
  std::mt19937 random(7);
  std::map<std::string, std::string> model;
  // 20,000 keys outgrow the first 1,024 buckets several times; reads in
  // between see the index in the middle of its growth.
  for (int i = 0; i < 20000; ++i) {
    const std::string key = fmt::format("k{}", random() % 30000);
    const std::string val = fmt::format("[{}]", i);
    if (random() % 5 == 0) {
      (void)s->del(key);
      model.erase(key);
    } else {
      REQUIRE_OK(s->put(key, val));
      model[key] = val;
    }
    if (i % 97 == 0) {
      std::string got;
      const Status st = r->get(key, &got);
      if (model.count(key)) {
        CHECK_OK(st);
        CHECK(got == model[key]);
      } else {
        CHECK(st.is_not_found());
      }
    }
  }
  for (const auto& [k, v] : model) {
    std::string got;
    REQUIRE_OK(r->get(k, &got));
    REQUIRE(got == v);
  }
  std::vector<std::string> keys;
  REQUIRE_OK(r->keys("", &keys));
  std::vector<std::string> expected;
  for (const auto& [k, v] : model) expected.push_back(k);
  CHECK(keys == expected);
  REQUIRE_OK(r->keys("k12", &keys));
  expected.clear();
  for (const auto& [k, v] : model)
    if (k.rfind("k12", 0) == 0) expected.push_back(k);
  CHECK(!expected.empty());
  CHECK(keys == expected);
  REQUIRE_OK(r->keys("nothing", &keys));
  CHECK(keys.empty());
}

TEST_CASE("local: reads and listings during a writer's churn see whole values and every stable key") {
  TestSegment seg;
  auto s = open_store(seg.name, 32 << 20);
  std::vector<std::string> stable;
  for (int i = 0; i < 300; ++i) {
    stable.push_back(fmt::format("stable:{:03}", i));
    REQUIRE_OK(s->put(stable.back(), fmt::format("\"{}\"", std::string(std::size_t(i % 50), 'a' + char(i % 26)))));
  }
  auto r = open_reader(seg.name);
  std::atomic<bool> done{false};
  // The writer rewrites the stable keys with values of changing sizes, each
  // a run of one letter (so a torn copy shows), and adds and removes other
  // keys, growing the index under the readers.
  std::thread writer([&] {
    auto w = open_store(seg.name);
    for (int n = 0; !done; ++n) {
      const int i = n % 300;
      (void)w->put(stable[std::size_t(i)], fmt::format("\"{}\"", std::string(std::size_t(n % 97), 'a' + char(n % 26))));
      (void)w->put(fmt::format("churn:{}", n), "1");
      if (n >= 3000) (void)w->del(fmt::format("churn:{}", n - 3000));  // 3,300 keys: the index grows
    }
  });
  int reads = 0, listings = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  while (std::chrono::steady_clock::now() < until) {
    for (int i = 0; i < 300; i += 7) {
      std::string value;
      REQUIRE_OK(r->get(stable[std::size_t(i)], &value));
      REQUIRE(value.size() >= 2);
      REQUIRE(value.front() == '"');
      REQUIRE(value.back() == '"');
      const std::string inner = value.substr(1, value.size() - 2);
      REQUIRE(inner.find_first_not_of(inner.empty() ? 'x' : inner[0]) == std::string::npos);
      ++reads;
    }
    std::vector<std::string> keys;
    REQUIRE_OK(r->keys("stable:", &keys));
    REQUIRE(keys == stable);
    ++listings;
  }
  done = true;
  writer.join();
  CHECK(reads > 100);
  CHECK(listings > 5);
}

TEST_CASE("local: an expired key is not found and not listed") {
  TestSegment seg;
  auto s = open_store(seg.name);
  std::int64_t now = 1'800'000'000'000;
  s->set_clock([&] { return now; });
  store::PutOptions ttl;
  ttl.ttl_ms = 1500;
  REQUIRE_OK(s->put("soon", "1", ttl));
  REQUIRE_OK(s->put("never", "2"));
  auto r = open_reader(seg.name);
  std::int64_t reader_now = now + 1499;
  r->set_clock([&] { return reader_now; });
  std::string value;
  REQUIRE_OK(r->get("soon", &value));
  CHECK(value == "1");
  std::vector<std::string> keys;
  REQUIRE_OK(r->keys("", &keys));
  CHECK(keys == std::vector<std::string>{"never", "soon"});
  reader_now = now + 1500;  // expired, although the sweep has not removed it
  CHECK(r->get("soon", &value).is_not_found());
  REQUIRE_OK(r->keys("", &keys));
  CHECK(keys == std::vector<std::string>{"never"});
  REQUIRE_OK(r->get("never", &value));
}

TEST_CASE("local: a reader reads while another thread sits on the store lock") {
  TestSegment seg;
  auto s = open_store(seg.name);
  REQUIRE_OK(s->put("k", "\"v\""));
  auto r = open_reader(seg.name);
  std::atomic<bool> holding{false}, released{false};
  std::thread holder([&] {
    auto other = open_store(seg.name);  // its own mapping, as a worker's
    holding = true;
    (void)other->debug_hold_lock(1500);
    released = true;
  });
  while (!holding) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let it take the lock
  std::string value;
  REQUIRE_OK(r->get("k", &value));
  std::vector<std::string> keys;
  REQUIRE_OK(r->keys("", &keys));
  const bool read_during_hold = !released;
  holder.join();
  CHECK(value == "\"v\"");
  CHECK(keys == std::vector<std::string>{"k"});
  CHECK(read_during_hold);
}

TEST_CASE("local: a reader of a retired segment opens the name again") {
  TestSegment seg, fresh;
  auto old_store = open_store(seg.name);
  REQUIRE_OK(old_store->put("k", "\"old\""));
  auto r = open_reader(seg.name);
  std::string value;
  REQUIRE_OK(r->get("k", &value));
  CHECK(value == "\"old\"");
  {
    auto new_store = open_store(fresh.name);
    REQUIRE_OK(new_store->put("k", "\"new\""));
    REQUIRE_OK(new_store->put("added", "1"));
  }
  // As recovery::rebuild does: the fresh segment takes the name, then the
  // old one is marked.
  REQUIRE_OK(store::Store::replace(fresh.name, seg.name));
  REQUIRE_OK(r->get("k", &value));
  CHECK(value == "\"old\"");  // not retired yet: the old mapping still serves
  old_store->retire();
  REQUIRE_OK(r->get("k", &value));
  CHECK(value == "\"new\"");
  REQUIRE_OK(r->get("added", &value));
  std::vector<std::string> keys;
  REQUIRE_OK(r->keys("", &keys));
  CHECK(keys == std::vector<std::string>{"added", "k"});
}

TEST_CASE("local: open says what is missing or wrong") {
  std::unique_ptr<local::Reader> r;
  Status s = local::Reader::open("shmkv-local-unit-no-such-segment", &r);
  CHECK(s.code() == Status::Code::kNotFound);
  CHECK(s.message().find("/dev/shm/shmkv-local-unit-no-such-segment") != std::string::npos);
  CHECK(s.message().find("shmkvd --name shmkv-local-unit-no-such-segment") != std::string::npos);
  s = local::Reader::open("a/b", &r);
  CHECK(s.code() == Status::Code::kInvalid);
  // A segment that is not a store.
  TestSegment seg;
  {
    std::ofstream out("/dev/shm/" + seg.name, std::ios::binary);
    out << std::string(1 << 16, 'x');
  }
  s = local::Reader::open(seg.name, &r);
  CHECK(s.code() == Status::Code::kCorrupt);
  CHECK(r == nullptr);
  // A FIFO planted under the name is refused, not waited on.
  TestSegment fifo;
  REQUIRE(mkfifo(("/dev/shm/" + fifo.name).c_str(), 0600) == 0);
  s = local::Reader::open(fifo.name, &r);
  CHECK(s.code() == Status::Code::kIo);
  CHECK(s.message().find("with mode 0600 and is a FIFO, not a regular file:") != std::string::npos);
  shmkv_local* c = nullptr;
  CHECK(shmkv_local_open(fifo.name.c_str(), &c) == EPERM);
  ::unlink(("/dev/shm/" + fifo.name).c_str());
}

namespace {

std::string user_name(uid_t uid) {
  const passwd* pw = getpwuid(uid);
  return pw ? fmt::format("{} (uid {})", pw->pw_name, uid) : fmt::format("uid {}", uid);
}

}  // namespace

TEST_CASE("local: a segment that users other than its owner could write is refused with EPERM") {
  TestSegment seg;
  auto s = open_store(seg.name);
  REQUIRE_OK(s->put("k", "\"planted\""));
  const std::string path = "/dev/shm/" + seg.name;
  std::unique_ptr<local::Reader> r;
  for (mode_t mode : {0620, 0602, 0666, 0622, 0660}) {
    CAPTURE(mode);
    REQUIRE(chmod(path.c_str(), mode) == 0);
    const Status st = local::Reader::open(seg.name, &r);
    CHECK(st.code() == Status::Code::kIo);
    CHECK(st.message().find(fmt::format("shared memory segment {} belongs to {} with mode {:04o}:", path,
                                        user_name(geteuid()), mode)) == 0);
    CHECK(st.message().find("rm " + path) != std::string::npos);
    CHECK(st.message().find("shmkvd --name " + seg.name) != std::string::npos);
    CHECK(r == nullptr);
    shmkv_local* c = nullptr;
    CHECK(shmkv_local_open(seg.name.c_str(), &c) == EPERM);
    CHECK(c == nullptr);
  }
  // The modes shmkvd makes (--segment-mode) are read.
  for (mode_t mode : {0600, 0640, 0604, 0644, 0400}) {
    CAPTURE(mode);
    REQUIRE(chmod(path.c_str(), mode) == 0);
    auto reader = open_reader(seg.name);
    std::string value;
    REQUIRE_OK(reader->get("k", &value));
    CHECK(value == "\"planted\"");
  }
  // A directory planted under a name says what it is.
  TestSegment dir;
  const std::string dir_path = "/dev/shm/" + dir.name;
  REQUIRE(mkdir(dir_path.c_str(), 0755) == 0);
  REQUIRE(chmod(dir_path.c_str(), 0755) == 0);  // whatever the umask
  const Status st = local::Reader::open(dir.name, &r);
  CHECK(st.code() == Status::Code::kIo);
  CHECK(st.message().find(fmt::format("{} belongs to {} with mode 0755 and is a directory, not a regular file:", dir_path,
                                      user_name(geteuid()))) != std::string::npos);
  ::rmdir(dir_path.c_str());
  // A symbolic link, even to a good segment, is not followed.
  TestSegment link;
  const std::string link_path = "/dev/shm/" + link.name;
  REQUIRE(symlink(path.c_str(), link_path.c_str()) == 0);
  const Status linked = local::Reader::open(link.name, &r);
  CHECK(linked.code() == Status::Code::kIo);
  CHECK(linked.message().find(fmt::format("{} belongs to {} with mode 0777 and is a symbolic link, not a regular file:",
                                          link_path, user_name(geteuid()))) != std::string::npos);
  shmkv_local* c = nullptr;
  CHECK(shmkv_local_open(link.name.c_str(), &c) == EPERM);
  ::unlink(link_path.c_str());
}

TEST_CASE("local: a recovery onto a segment that others could write is refused too") {
  TestSegment seg, fresh;
  auto old_store = open_store(seg.name);
  REQUIRE_OK(old_store->put("k", "\"old\""));
  auto r = open_reader(seg.name);
  {
    auto new_store = open_store(fresh.name);
    REQUIRE_OK(new_store->put("k", "\"planted\""));
  }
  REQUIRE(chmod(("/dev/shm/" + fresh.name).c_str(), 0666) == 0);
  REQUIRE_OK(store::Store::replace(fresh.name, seg.name));
  old_store->retire();
  std::string value;
  const Status st = r->get("k", &value);
  CHECK(st.code() == Status::Code::kIo);
  CHECK(r->error_number() == EPERM);
  CHECK(st.message().find("with mode 0666:") != std::string::npos);
  CHECK(value.empty());
}

TEST_CASE("local: a segment name is 1 to 255 bytes without a slash, as shmkvd --name can serve") {
  for (std::size_t length : {201, 255}) {
    CAPTURE(length);
    TestSegment seg;
    seg.name += std::string(length - seg.name.size(), 'n');
    auto s = open_store(seg.name);
    REQUIRE_OK(s->put("k", "1"));
    auto r = open_reader(seg.name);
    std::string value;
    REQUIRE_OK(r->get("k", &value));
    CHECK(value == "1");
  }
  std::unique_ptr<local::Reader> r;
  const std::string too_long(256, 'n');
  const Status st = local::Reader::open(too_long, &r);
  CHECK(st.code() == Status::Code::kInvalid);
  CHECK(st.message().find("1 to 255 bytes without a slash") != std::string::npos);
  shmkv_local* c = nullptr;
  CHECK(shmkv_local_open(too_long.c_str(), &c) == EINVAL);
  CHECK(shmkv_local_open("", &c) == EINVAL);
  CHECK(shmkv_local_open("..", &c) == EINVAL);
}

TEST_CASE("local: the C ABI") {
  TestSegment seg;
  auto s = open_store(seg.name);
  REQUIRE_OK(s->put("k", "\"blue\""));
  store::PutOptions bytes;
  bytes.kind = store::Kind::kBytes;
  REQUIRE_OK(s->put("b", "xyz", bytes));
  shmkv_local* r = nullptr;
  CHECK(shmkv_local_open("shmkv-local-unit-no-such-segment", &r) == ENOENT);
  REQUIRE(shmkv_local_open(seg.name.c_str(), &r) == 0);
  char* value = nullptr;
  size_t len = 0;
  int kind = -1;
  REQUIRE(shmkv_local_get(r, "k", 1, &value, &len, &kind) == 0);
  CHECK(std::string(value, len) == "\"blue\"");
  CHECK(value[len] == '\0');
  CHECK(kind == SHMKV_JSON);
  shmkv_free(value);
  REQUIRE(shmkv_local_get(r, "b", 1, &value, &len, nullptr) == 0);  // kind may be NULL
  CHECK(std::string(value, len) == "xyz");
  shmkv_free(value);
  REQUIRE(shmkv_local_get(r, "b", 1, &value, &len, &kind) == 0);
  CHECK(kind == SHMKV_BYTES);
  shmkv_free(value);
  value = nullptr;
  CHECK(shmkv_local_get(r, "nope", 4, &value, &len, &kind) == 1);
  CHECK(value == nullptr);
  shmkv_local_close(r);
}

TEST_CASE("local: a change under way makes the reader retry, then answer busy") {
  TestSegment seg;
  auto s = open_store(seg.name);
  REQUIRE_OK(s->put("k", "1"));
  ImageCopy image(seg.name);
  local::Image reader(image.data(), image.size());
  REQUIRE(reader.locate() == 0);
  std::string value;
  int kind = -1;
  CHECK(reader.get("k", local::wall_clock_ms(), &value, &kind) == local::kFound);
  // Find the root as the reader does and make its sequence odd, as a writer
  // that died inside a change leaves it.
  std::size_t root = 0;
  for (; root < image.size(); root += 8) {
    std::uint64_t magic;
    std::memcpy(&magic, image.data() + root, 8);
    std::uint64_t self;
    std::memcpy(&self, image.data() + root + store::root_offset::kSelf, 8);
    if (magic == store::kMagic && self == root) break;
  }
  REQUIRE(root < image.size());
  std::uint64_t changes;
  std::memcpy(&changes, image.data() + root + store::root_offset::kChanges, 8);
  CHECK(changes % 2 == 0);
  CHECK(changes > 0);  // the put above counted
  changes += 1;
  std::memcpy(image.data() + root + store::root_offset::kChanges, &changes, 8);
  local::Retry quick;
  quick.attempts = 20;
  CHECK(reader.get("k", local::wall_clock_ms(), &value, &kind, quick) == -EBUSY);
  std::vector<std::string> keys;
  CHECK(reader.keys("", local::wall_clock_ms(), &keys, quick) == -EBUSY);
  // The retired mark.
  std::uint32_t one = 1;
  std::memcpy(image.data() + root + store::root_offset::kRetired, &one, 4);
  CHECK(reader.get("k", local::wall_clock_ms(), &value, &kind, quick) == local::kRetired);
}

namespace {

// poke writes bytes at the offset `field` from the root of segment name,
// through the file, as a writer of the segment would.
void poke(const std::string& name, std::size_t field, const void* bytes, std::size_t length) {
  ImageCopy image(name);
  std::size_t root = 0;
  for (; root + 40 <= image.size(); root += 8) {
    std::uint64_t magic, self;
    std::memcpy(&magic, image.data() + root, 8);
    std::memcpy(&self, image.data() + root + store::root_offset::kSelf, 8);
    if (magic == store::kMagic && self == root) break;
  }
  REQUIRE(root + 40 <= image.size());
  const int fd = ::open(("/dev/shm/" + name).c_str(), O_RDWR | O_CLOEXEC);
  REQUIRE(fd >= 0);
  CHECK(pwrite(fd, bytes, length, off_t(root + field)) == ssize_t(length));
  ::close(fd);
}

}  // namespace

TEST_CASE("local: a store left inside a change with no shmkvd serving it reads as its writer dead") {
  TestSegment seg;
  auto s = open_store(seg.name);
  REQUIRE_OK(s->put("k", "1"));
  auto r = open_reader(seg.name);
  std::string value;
  REQUIRE_OK(r->get("k", &value));
  // A writer that died inside a change leaves the sequence odd.
  std::uint64_t odd = 12345;
  poke(seg.name, store::root_offset::kChanges, &odd, sizeof odd);
  // No process holds the claim (Store::claim's flock): nothing will recover it.
  Status st = r->get("k", &value);
  CHECK(st.code() == Status::Code::kCorrupt);
  CHECK(r->error_number() == EOWNERDEAD);
  CHECK(st.message() == "store " + seg.name + " was left inside a change or a recovery by a writer that died, " +
                            "and no shmkvd serves it: start shmkvd --name " + seg.name + " to recover it");
  std::vector<std::string> keys;
  CHECK(r->keys("", &keys).code() == Status::Code::kCorrupt);
  CHECK(r->error_number() == EOWNERDEAD);
  shmkv_local* c = nullptr;
  REQUIRE(shmkv_local_open(seg.name.c_str(), &c) == 0);
  char* bytes = nullptr;
  size_t length = 0;
  CHECK(shmkv_local_get(c, "k", 1, &bytes, &length, nullptr) == -EOWNERDEAD);
  // A shmkvd serving it (its claim held) will salvage it: busy, retry.
  REQUIRE_OK(s->claim());
  st = r->get("k", &value);
  CHECK(st.code() == Status::Code::kBusy);
  CHECK(r->error_number() == EBUSY);
  CHECK(shmkv_local_get(c, "k", 1, &bytes, &length, nullptr) == -EBUSY);
  s.reset();  // the claim goes with the store
  // A retired mark that no salvage followed, with no shmkvd: the same.
  std::uint64_t even = 12346;
  poke(seg.name, store::root_offset::kChanges, &even, sizeof even);
  std::uint32_t one = 1;
  poke(seg.name, store::root_offset::kRetired, &one, sizeof one);
  CHECK(shmkv_local_get(c, "k", 1, &bytes, &length, nullptr) == -EOWNERDEAD);
  st = r->get("k", &value);
  CHECK(r->error_number() == EOWNERDEAD);
  shmkv_local_close(c);
}

TEST_CASE("local: damaged images end in an answer or an error, never a crash or a hang") {
  TestSegment seg;
  auto s = open_store(seg.name, 256 << 10);
  for (int i = 0; i < 600; ++i) REQUIRE_OK(s->put(fmt::format("key{}", i), fmt::format("\"value {}\"", i)));
  store::PutOptions ttl;
  ttl.ttl_ms = 100000;
  for (int i = 0; i < 50; ++i) REQUIRE_OK(s->put(fmt::format("ttl{}", i), "1", ttl));
  const ImageCopy pristine(seg.name);
  std::mt19937_64 random(11);
  local::Retry quick;
  quick.attempts = 3;
  quick.spin_attempts = 3;
  int errors = 0;
  for (int round = 0; round < 400; ++round) {
    ImageCopy image = pristine;
    // Damage the first 32 KiB (the root, the index, the first nodes) more
    // often than the rest: that is where the words the reader follows live.
    const int hits = 1 + int(random() % 64);
    for (int h = 0; h < hits; ++h) {
      const std::size_t span = random() % 2 ? 32768 : image.size();
      const std::size_t at = random() % std::min(span, image.size());
      image.data()[at] = static_cast<char>(random());
    }
    local::Image reader(image.data(), image.size());
    if (reader.locate() != 0) continue;
    std::string value;
    int kind;
    for (int i = 0; i < 20; ++i) {
      const int r = reader.get(fmt::format("key{}", random() % 700), local::wall_clock_ms(), &value, &kind, quick);
      CHECK((r == local::kFound || r == local::kNotFound || r == local::kRetired || r == -EIO || r == -EBUSY));
      errors += r < 0;
    }
    std::vector<std::string> keys;
    const int r = reader.keys("key1", local::wall_clock_ms(), &keys, quick);
    CHECK((r == local::kFound || r == local::kRetired || r == -EIO || r == -EBUSY));
  }
  CHECK(errors > 0);  // the damage was found, not just survived
  // And a few fully random images.
  for (int round = 0; round < 50; ++round) {
    std::vector<std::uint64_t> junk(8192);
    for (auto& w : junk) w = random();
    local::Image reader(reinterpret_cast<const char*>(junk.data()), junk.size() * 8);
    CHECK(reader.locate() == EPROTO);
    std::string value;
    CHECK(reader.get("k", 0, &value, nullptr) == -EPROTO);
  }
}
