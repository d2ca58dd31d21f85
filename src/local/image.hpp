// The local reader's core: GET and KEYS on a segment's bytes, read without the
// store lock and without trusting a word of them (shmkv-protocol(7), Local
// readers). It reads only; segment.cpp maps a store for it, a fuzz target any bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shmkv::local {

// Results of Image::get and Image::keys, as the C ABI returns them.
inline constexpr int kFound = 0;
inline constexpr int kNotFound = 1;
// kRetired: the segment was replaced by a salvage; open the name again.
inline constexpr int kRetired = 2;
// Errors are -errno: -EBUSY when the store kept changing under every retry,
// -EIO when what a stable read found is damaged, -EPROTO when the bytes
// hold no shmkv store of this format (Image::locate).

// How long a read retries before it gives up with -EBUSY. A change takes
// well under a microsecond, so the first attempts follow each other at once;
// later ones yield the processor first, so that a writer preempted inside a
// change on this CPU gets it back; the last ones sleep sleep_us each, so
// that one waiting for a CPU elsewhere on a loaded machine (some
// milliseconds) can finish too. The defaults give up after some 30 ms: a
// writer that died inside a change leaves the sequence odd until the daemon
// has salvaged the store.
struct Retry {
  int attempts = 512;
  int spin_attempts = 16;    // attempts before the first yield
  int yield_attempts = 256;  // attempts before the first sleep
  int sleep_us = 100;
};

// Image is a segment's bytes at [base, base + size). Every offset, Ref,
// length and count read from them is checked against that range before it
// is followed, and every walk is bounded, so that bytes torn by a writer,
// or damaged, end in a retry or an error, never a fault or an endless loop.
// Words are read with relaxed atomic loads, key and value bytes with memcpy
// and memcmp; nothing is ever written.
class Image {
 public:
  Image(const char* base, std::size_t size) : base_(base), size_(size) {}

  // locate finds the store's root among the first kScan bytes: a root that
  // begins with the magic, this format and this Boost version, names its
  // own offset, and names a segment manager before it. 0, or EPROTO.
  static constexpr std::size_t kScan = std::size_t(64) << 10;
  int locate();

  // retired says whether the segment's retired mark is set.
  bool retired() const;

  // get copies the value of key into *value and its kind (0 JSON text, 1
  // bytes) into *kind: kFound, kNotFound (absent, or expired at now_ms, Unix
  // milliseconds), kRetired, or -EBUSY, -EIO, -EPROTO. With kWallClock
  // (or any now_ms < 0) the wall clock is read, and only when the key
  // found has an expiry. *value may change whatever the result: an attempt
  // copies before it knows whether its copy will stand.
  int get(std::string_view key, std::int64_t now_ms, std::string* value, int* kind, const Retry& retry = {}) const;

  // keys lists the keys that start with prefix and have not expired at
  // now_ms (kWallClock: now), sorted and without duplicates: kFound (even when none match),
  // kRetired, or an error as for get. The index is walked a few buckets at
  // a time, each chunk copied under the seqlock and copied again when a
  // change overlapped it; a key present throughout the walk is listed, one
  // added or removed meanwhile may or may not be.
  int keys(std::string_view prefix, std::int64_t now_ms, std::vector<std::string>* out,
           const Retry& retry = {}) const;

 private:
  struct Index;     // the index's words, as read once (image.cpp)
  struct NodeView;  // a node's words, as read once
  enum class Step { kOk, kRetry, kBad };

  template <typename T>
  bool load(std::size_t offset, T* out) const;
  std::uint64_t changes_acquire() const;
  bool unchanged_since(std::uint64_t seen) const;
  Step read_index(Index* index) const;
  Step find(const Index& index, std::string_view key, std::uint32_t hash, std::uint64_t seen, std::int64_t now_ms,
            std::string* value, int* kind, bool* found) const;
  static constexpr int kRestart = 3;
  int walk(const Index& index, std::string_view prefix, std::int64_t now_ms, std::vector<std::string>* out,
           const Retry& retry, std::uint64_t* budget) const;
  bool read_node(std::uint32_t ref, NodeView* node) const;
  bool key_is(const NodeView& node, std::string_view key) const;
  Step collect(const Index& index, std::size_t array, std::uint32_t first, std::uint32_t count,
               std::string_view prefix, std::int64_t now_ms, std::vector<std::string>* out,
               std::uint64_t* budget) const;

  const char* base_;
  std::size_t size_;
  std::size_t root_ = 0;     // the root's offset, once located
  std::size_t manager_ = 0;  // the segment manager's offset: Refs count from it
  std::uint64_t seed_ = 0;   // the index's hash seed
  bool located_ = false;
};

// kWallClock, as now_ms: the wall clock's time, read when it is needed.
inline constexpr std::int64_t kWallClock = -1;

// wall_clock_ms is the wall-clock time in Unix milliseconds, the clock the
// store keeps expiries in.
std::int64_t wall_clock_ms();

}  // namespace shmkv::local
