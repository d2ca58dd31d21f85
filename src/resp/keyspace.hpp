// Keyspace: what the RESP commands need of the store, in RESP's terms
// (byte strings; shmkv-protocol(7), RESP values), over store::Store. Every
// store call is marked "in the store" on the worker's scoreboard slot, so
// that the parent knows what a death there means, a store that recovery
// has not rebuilt is not served, and every change is counted for snapshots
// (snapshotter::changed), as the JSON dispatcher counts its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/scoreboard.hpp"
#include "daemon/snapshotter.hpp"
#include "shmkv/status.hpp"
#include "store/store.hpp"

namespace shmkv::resp {

class Keyspace {
 public:
  // slot may be null (tests).
  Keyspace(store::Store& store, scoreboard::Scoreboard& board, scoreboard::Slot* slot)
      : store_(store), board_(board), slot_(slot) {}

  // available is ok when the store may be served, else why not.
  Status available() const;

  // get sets *bytes and *found; a missing key is found = false, not an error.
  Status get(std::string_view key, std::string* bytes, bool* found);
  // get_many looks up keys in order, up to 32 per hold of the lock, and
  // stops after the key whose value brings the bytes read to max_bytes or
  // more (Store::get_some), or after 1024 keys; *done says how many it
  // looked up, at least one.
  // (*bytes)[i] and (*found)[i] answer keys[i], for i < *done.
  Status get_many(std::span<const std::string_view> keys, std::size_t max_bytes, std::vector<std::string>* bytes,
                  std::vector<bool>* found, std::size_t* done);
  // count_present sets *present to how many of keys exist (a key named
  // twice counts twice), reading no value.
  Status count_present(std::span<const std::string_view> keys, std::size_t* present);
  // put stores bytes under key; a key that is not valid UTF-8 is refused
  // with kInvalid.
  Status put(std::string_view key, std::string_view bytes);
  // put_with stores bytes under key with options' ttl and condition (its
  // kind is always bytes); *stored says whether the condition held.
  Status put_with(std::string_view key, std::string_view bytes, store::PutOptions options, bool* stored);
  // put_many stores each write's value under its key as bytes, as put does,
  // in as few holds of the lock as Store::put_many takes; each write's
  // status says how it went (a key that is not valid UTF-8 is kInvalid and
  // not tried). It fails as a whole as Store::put_many does.
  Status put_many(std::vector<store::Store::Write>* writes);
  // incr adds by to key's integer (shmkv-protocol(7), INCR) and sets
  // *result. A value that is not an integer, or a sum outside signed 64-bit
  // range, is kInvalid with *refused saying which.
  enum class IncrRefused { kNo, kNotInteger, kOverflow };
  Status incr(std::string_view key, std::int64_t by, std::int64_t* result, IncrRefused* refused);
  // expire sets key's expiry ttl_ms from now (0 removes it); *found is false
  // when key is absent, which is not an error.
  Status expire(std::string_view key, std::int64_t ttl_ms, bool* found);
  // ttl sets *ms_left (-1: no expiry) and *found; absent is not an error.
  Status ttl(std::string_view key, std::int64_t* ms_left, bool* found);
  // del sets *existed; a missing key is not an error.
  Status del(std::string_view key, bool* existed);
  // scan returns up to limit keys that start with prefix, after *after (from
  // the first when after is
  // null), in ascending byte order.
  Status scan(std::string_view prefix, const std::string_view* after, std::size_t limit, store::Page* page);
  // scan_buckets is Store::scan_buckets, for SCAN.
  Status scan_buckets(std::uint32_t cursor, std::size_t count, store::Page* page, std::uint32_t* next);
  store::Counts counts();
  // save writes the snapshot now and returns once it is on disk
  // (snapshotter::save, this worker's slot marked while it copies).
  Status save(snapshotter::Saved* out) { return snapshotter::save(store_, board_, slot_, out); }

  scoreboard::Scoreboard& board() { return board_; }

  // now_ms is the wall-clock time EXPIREAT and SET EXAT are measured
  // against; set_clock replaces it, as Store::set_clock does the store's (tests).
  std::int64_t now_ms() const { return clock_ ? clock_() : store::wall_clock_ms(); }
  void set_clock(store::Clock clock) { clock_ = std::move(clock); }

 private:
  using InStore = scoreboard::InStore;

  void prepare_lookups(std::span<const std::string_view> keys, bool values_wanted);
  // release_lookups lets go of lookups_ after a long command or big values
  // (value_bytes, their total), so that one MGET of a million keys, or of
  // big values, does not stay with the worker for good.
  void release_lookups(std::size_t value_bytes);

  store::Store& store_;
  scoreboard::Scoreboard& board_;
  scoreboard::Slot* const slot_;
  store::Clock clock_;  // empty: store::wall_clock_ms
  std::string stored_;  // scratch: a value as the store keeps it
  std::string value_;   // scratch: a value as RESP sees it
  std::vector<store::Store::Lookup> lookups_;
  std::vector<store::Store::Write> valid_;  // scratch: put_many's writes with UTF-8 keys
  std::vector<std::size_t> valid_at_;       // and where each is in the caller's
};

}  // namespace shmkv::resp
