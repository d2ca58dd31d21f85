// libFuzzer target for the local reader's core (src/local/image.cpp): it
// points local::Image at any bytes and at real segment images with bytes
// changed, and calls locate, retired, get and keys, which must never crash,
// read outside the image or loop, and must return only what they document.
// Built by `make fuzz`.
//
// The first byte chooses. Bit 0 clear: the rest is a whole image. Bit 0 set:
// the rest patches a copy of a real segment built at start-up (bit 1 picks
// a small one or one whose index is growing), as records of a 4-byte
// little-endian offset, a length byte and that many bytes, so that small
// inputs reach the index, the chains and the nodes. Bit 2 picks the clock:
// every expiry passed, or none (or, bit 3, the wall clock).
//
// The real segments are Stores made here with a few keys of each kind (JSON,
// bytes, with an expiry, deleted) and, in the larger one, enough keys to
// start a growth of the index. With SHMKV_FUZZ_SEEDS=DIR in the environment
// it writes them into DIR as seeds (the small one whole, both as empty
// patch lists) and exits (test/fuzz/run-fuzzers does this before each run).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "local/image.hpp"
#include "store/store.hpp"

using namespace shmkv;

namespace {

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "local_fuzz: invariant broken: %s\n", what);
  std::abort();
}

// The keys every run looks up: those the real segments hold, and one absent.
const char* const kKeys[] = {"colour", "bytes", "empty", "live", "dead", "gone", "k0", "k1", "k777", "k2100", "absent"};
constexpr int kGrowthKeys = 2120;  // beyond 2 * 1024 buckets: a growth starts, and is under way at the end

constexpr std::size_t kSmall = std::size_t(64) << 10;
std::string g_small;    // a 64 KiB segment with a few keys
std::string g_growing;  // a 256 KiB segment whose index is growing

// make_image builds a store in a segment of `size` bytes and returns its bytes.
std::string make_image(std::size_t size, int numbered) {
  const std::string name = "shmkv-local-fuzz-" + std::to_string(getpid());
  store::Store::remove(name);
  std::unique_ptr<store::Store> s;
  require(static_cast<bool>(store::Store::open(name, size, &s)), "Store::open of a fresh segment");
  store::PutOptions bytes;
  bytes.kind = store::Kind::kBytes;
  store::PutOptions ttl;
  ttl.ttl_ms = 3600 * 1000;
  require(s->put("colour", "\"blue\"") && s->put("bytes", std::string_view("a\0b\xff", 4), bytes) &&
              s->put("empty", "", bytes) && s->put("live", "[1, 2]", ttl) && s->put("dead", "3", ttl) &&
              s->put("gone", "null"),
          "the first puts");
  require(static_cast<bool>(s->del("gone")), "the delete");
  for (int i = 0; i < numbered; ++i) require(static_cast<bool>(s->put("k" + std::to_string(i), "1")), "put k<n>");
  s.reset();
  std::ifstream file("/dev/shm/" + name, std::ios::binary);
  std::string image((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  store::Store::remove(name);
  require(image.size() == size, "the segment's bytes read back");
  return image;
}

// A retry budget that never sleeps: an image does not change, so a retry
// only repeats what was read (the default budget would spend ~30 ms on an
// odd sequence word).
constexpr local::Retry kFast{3, 3, 3, 0};

// check_image reads an image as every run does: each result is one that get
// and keys document, and what they hand out lies within the image.
void check_image(const char* base, std::size_t size, std::int64_t now_ms) {
  local::Image image(base, size);
  if (image.locate() != 0) {
    std::string value;
    require(image.get("colour", now_ms, &value, nullptr, kFast) == -EPROTO, "get before locate is EPROTO");
    return;
  }
  (void)image.retired();
  std::string value;
  for (const char* key : kKeys) {
    int kind = -1;
    value.clear();
    const int r = image.get(key, now_ms, &value, &kind, kFast);
    require(r == local::kFound || r == local::kNotFound || r == local::kRetired || r == -EBUSY || r == -EIO,
            "get returns what it documents");
    if (r == local::kFound) require((kind == 0 || kind == 1) && value.size() < size, "a found value's kind and size");
  }
  // Listing a large image's thousands of keys would cost each run more
  // than the walk: from a large image, prefixes that match some tens.
  std::vector<std::string> keys;
  for (const char* prefix : {size <= kSmall ? "" : "k21", size <= kSmall ? "k1" : "k77"}) {
    const int r = image.keys(prefix, now_ms, &keys, kFast);
    require(r == local::kFound || r == local::kRetired || r == -EBUSY || r == -EIO, "keys returns what it documents");
    if (r != local::kFound) continue;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      require(keys[i].size() < size && keys[i].compare(0, std::strlen(prefix), prefix) == 0, "a key listed");
      require(i == 0 || keys[i - 1] < keys[i], "keys sorted, each once");
    }
  }
}

// expect reads key from a real image as it was written.
void expect(const std::string& image, const char* key, std::int64_t now_ms, int result, std::string_view want = {}) {
  local::Image reader(image.data(), image.size());
  require(reader.locate() == 0, "a real segment is located");
  std::string value;
  int kind = -1;
  const int r = reader.get(key, now_ms, &value, &kind);
  require(r == result && (r != local::kFound || value == want), "a real segment reads as written");
}

void write_file(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  require(static_cast<bool>(out), "a seed written");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_small = make_image(kSmall, 8);
  g_growing = make_image(std::size_t(256) << 10, kGrowthKeys);
  // The target reads what the store writes: check that before fuzzing.
  const std::int64_t now = local::wall_clock_ms();
  for (const std::string* image : {&g_small, &g_growing}) {
    expect(*image, "colour", now, local::kFound, "\"blue\"");
    expect(*image, "bytes", now, local::kFound, std::string_view("a\0b\xff", 4));
    expect(*image, "live", now, local::kFound, "[1, 2]");
    expect(*image, "live", now + 7200 * 1000, local::kNotFound);
    expect(*image, "gone", now, local::kNotFound);
    expect(*image, "k7", now, local::kFound, "1");
  }
  expect(g_growing, "k2100", now, local::kFound, "1");
  local::Image growing(g_growing.data(), g_growing.size());
  std::vector<std::string> keys;
  require(growing.locate() == 0 && growing.keys("k", now, &keys) == local::kFound && keys.size() == kGrowthKeys,
          "keys lists a growing index's keys once each");
  if (const char* dir = std::getenv("SHMKV_FUZZ_SEEDS")) {
    mkdir(dir, 0755);
    const std::string d = dir;
    // The growing image is a seed only as patches: whole, its 256 KiB
    // would slow every run down (test/fuzz/local.options caps inputs).
    write_file(d + "/small-image", std::string(1, '\x00') + g_small);
    write_file(d + "/small-patched", std::string(1, '\x01'));
    write_file(d + "/growing-patched", std::string(1, '\x03'));
    write_file(d + "/growing-patched-expired", std::string(1, '\x07'));
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  // Bit 3: now_ms -1 (kWallClock: the wall clock, read only for a key
  // that has an expiry).
  const std::int64_t now_ms = (mode & 4) ? std::int64_t(1) << 62 : (mode & 8) ? -1 : 1;
  std::size_t length = size - 1;
  const std::string* base = nullptr;
  if (mode & 1) {
    base = (mode & 2) ? &g_growing : &g_small;
    length = base->size();
  }
  // Exactly length bytes of the heap, so that a read past the end is seen.
  std::unique_ptr<char[]> image(new char[length ? length : 1]);
  if (!base) {
    if (length) std::memcpy(image.get(), data + 1, length);
  } else {
    std::memcpy(image.get(), base->data(), length);
    for (std::size_t at = 1; at + 5 <= size;) {
      std::uint32_t offset = 0;
      for (int i = 0; i < 4; ++i) offset |= std::uint32_t(data[at + std::size_t(i)]) << (8 * i);
      const std::size_t n = std::min<std::size_t>(data[at + 4], size - at - 5);
      at += 5;
      const std::size_t to = offset % length;
      std::memcpy(image.get() + to, data + at, std::min(n, length - to));
      at += n;
    }
  }
  check_image(image.get(), length, now_ms);
  return 0;
}
