// store_microbench: the store's memory per key and its lookup cost, measured
// in-process through the Store API, without the daemon, the sockets or the
// protocol (make bench-store). It answers issue 5's two store figures:
//
//   bytes per key: load 1,000,000 keys of 16 bytes ("key:%012d") with 32-byte
//       values, and divide the segment bytes used (store_bytes - free_bytes,
//       less the empty store's) by the key count; the same again for keys
//       that each have an expiry (a ttl of an hour);
//   GET ratio: gets of random existing keys per second in a store of
//       1,000,000 keys, over the same in a store of 1,000 keys.
//
// Every figure is the median of --rounds rounds (3 by default); the GET runs
// of the two stores alternate, so that the machine's drift touches both.
//
//   build/store_microbench [--keys N] [--small N] [--gets N] [--rounds N]
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.hpp"

using namespace shmkv;

namespace {

constexpr std::size_t kKeySize = 16;
constexpr std::size_t kValueSize = 32;
constexpr std::size_t kSegmentSize = std::size_t(512) << 20;

struct Options {
  std::size_t keys = 1'000'000;
  std::size_t small = 1'000;
  std::size_t gets = 2'000'000;
  int rounds = 3;
};

void make_key(std::size_t i, char* out) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "key:%012zu", i);
  std::memcpy(out, buf, kKeySize);
}

// TempStore is a store in its own segment, removed when it goes.
struct TempStore {
  std::string name;
  std::unique_ptr<store::Store> store;
  explicit TempStore(const std::string& tag) : name(fmt::format("shmkv-micro-{}-{}", getpid(), tag)) {
    store::Store::remove(name);
    Status st = store::Store::open(name, kSegmentSize, &store);
    if (!st) {
      std::fprintf(stderr, "store_microbench: %s\n", st.message().c_str());
      std::exit(1);
    }
  }
  ~TempStore() {
    store.reset();
    store::Store::remove(name);
  }
  std::size_t used() {
    store::Counts c = store->counts();
    return c.store_bytes - c.free_bytes;
  }
  void load(std::size_t n, std::int64_t ttl_ms = 0) {
    const std::string value(kValueSize, 'v');
    char key[kKeySize];
    store::PutOptions options;
    options.ttl_ms = ttl_ms;
    for (std::size_t i = 0; i < n; ++i) {
      make_key(i, key);
      Status st = store->put(std::string_view(key, kKeySize), value, options);
      if (!st) {
        std::fprintf(stderr, "store_microbench: put: %s\n", st.message().c_str());
        std::exit(1);
      }
    }
  }
};

// Lookups is a sequence of random existing keys, laid out flat, so that
// both stores' runs read the same amount of key memory.
std::vector<char> lookups(std::size_t keys, std::size_t count, std::uint32_t seed) {
  std::vector<char> out(count * kKeySize);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> pick(0, keys - 1);
  for (std::size_t i = 0; i < count; ++i) make_key(pick(rng), &out[i * kKeySize]);
  return out;
}

// gets_per_second runs one get per key of the sequence and times them.
double gets_per_second(store::Store& s, const std::vector<char>& keys) {
  std::string value;
  const std::size_t count = keys.size() / kKeySize;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < count; ++i) {
    Status st = s.get(std::string_view(&keys[i * kKeySize], kKeySize), &value);
    if (!st || value.size() != kValueSize) {
      std::fprintf(stderr, "store_microbench: get: %s\n", st.message().c_str());
      std::exit(1);
    }
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  return count / took.count();
}

// batched_gets_per_second does the same gets in get_many batches of
// `batch`, as a worker does for a pipelined run of GETs.
double batched_gets_per_second(store::Store& s, const std::vector<char>& keys, std::size_t batch) {
  const std::size_t count = keys.size() / kKeySize;
  std::vector<store::Store::Lookup> lookups(batch);
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < count; i += batch) {
    const std::size_t n = std::min(batch, count - i);
    for (std::size_t j = 0; j < n; ++j) lookups[j].key = std::string_view(&keys[(i + j) * kKeySize], kKeySize);
    Status st = s.get_many(lookups.data(), n);
    for (std::size_t j = 0; j < n; ++j) {
      if (!st || !lookups[j].found || lookups[j].value.size() != kValueSize) {
        std::fprintf(stderr, "store_microbench: get_many: %s\n", st.message().c_str());
        std::exit(1);
      }
    }
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  return count / took.count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::size_t number(const char* flag, const char* text) {
  char* end = nullptr;
  const unsigned long long n = std::strtoull(text, &end, 10);
  if (!*text || *end || n == 0) {
    std::fprintf(stderr, "store_microbench: %s wants a positive number, not %s\n", flag, text);
    std::exit(2);
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "usage: store_microbench [--keys N] [--small N] [--gets N] [--rounds N]\n");
      return 2;
    }
    if (arg == "--keys") opt.keys = number("--keys", argv[++i]);
    else if (arg == "--small") opt.small = number("--small", argv[++i]);
    else if (arg == "--gets") opt.gets = number("--gets", argv[++i]);
    else if (arg == "--rounds") opt.rounds = static_cast<int>(number("--rounds", argv[++i]));
    else {
      std::fprintf(stderr, "usage: store_microbench [--keys N] [--small N] [--gets N] [--rounds N]\n");
      return 2;
    }
  }

  std::vector<double> per_key, per_ttl_key, big_rate, small_rate, ratio;
  for (int round = 1; round <= opt.rounds; ++round) {
    TempStore big("big");
    TempStore small("small");
    const std::size_t empty = big.used();
    big.load(opt.keys);
    small.load(opt.small);
    per_key.push_back(double(big.used() - empty) / double(opt.keys));
    {
      TempStore expiring("ttl");
      const std::size_t none = expiring.used();
      expiring.load(opt.keys, 3'600'000);
      per_ttl_key.push_back(double(expiring.used() - none) / double(opt.keys));
    }
    if (big.store->counts().keys != opt.keys) {
      std::fprintf(stderr, "store_microbench: the store counts %zu keys, not %zu\n", big.store->counts().keys,
                   opt.keys);
      return 1;
    }
    const auto big_keys = lookups(opt.keys, opt.gets, 1000 + round);
    const auto small_keys = lookups(opt.small, opt.gets, 2000 + round);
    gets_per_second(*big.store, big_keys);  // warm both before timing
    gets_per_second(*small.store, small_keys);
    const double b = gets_per_second(*big.store, big_keys);
    const double s = gets_per_second(*small.store, small_keys);
    big_rate.push_back(b);
    small_rate.push_back(s);
    ratio.push_back(b / s);
    std::printf("round %d: %.1f bytes per key, %.1f with a ttl; GET %.0f/s with %zu keys, %.0f/s with %zu keys: %.2fx\n", round,
                per_key.back(), per_ttl_key.back(), b, opt.keys, s, opt.small, b / s);
    const double bb = batched_gets_per_second(*big.store, big_keys, 16);
    const double sb = batched_gets_per_second(*small.store, small_keys, 16);
    std::printf("round %d: batches of 16: GET %.0f/s with %zu keys, %.0f/s with %zu keys: %.2fx\n", round, bb,
                opt.keys, sb, opt.small, bb / sb);
    std::fflush(stdout);
  }
  std::printf("median of %d: %.1f bytes per key (%zu-byte keys, %zu-byte values), %.1f with a ttl; GET %.0f/s with %zu keys, "
              "%.0f/s with %zu keys, ratio %.2fx\n",
              opt.rounds, median(per_key), kKeySize, kValueSize, median(per_ttl_key), median(big_rate), opt.keys, median(small_rate),
              opt.small, median(ratio));
  return 0;
}
