// The store: the dictionary in a Boost.Interprocess managed shared-memory
// segment, shared by every worker process. It owns the segment's layout, its
// lock and the map; everyone else goes through this interface, whose errors are
// Status values (no Boost exception leaves this module).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "shmkv/status.hpp"
#include "store/snapshot.hpp"

namespace shmkv::store {

inline constexpr std::size_t kDefaultSize = std::size_t(64) << 20;
inline constexpr std::size_t kMinimumSize = std::size_t(64) << 10;
inline constexpr std::size_t kMaximumSize = std::size_t(32) << 30;  // what the hash index can address

struct Counts {
  std::size_t keys = 0;
  std::size_t store_bytes = 0;  // size of the segment
  std::size_t free_bytes = 0;   // what the allocator has left
};

// One page of a key scan: keys in ascending byte order.
struct Page {
  std::vector<std::string> keys;
  bool more = false;  // further matching keys exist beyond this page
};

class Segment;  // the Boost objects, kept out of this header

// SnapshotCopy is a private, point-in-time copy of the store's map, taken
// by Store::snapshot_copy in one hold of the lock and walked without it
// (store_snapshot.cpp).
class SnapshotCopy {
 public:
  ~SnapshotCopy();
  // count is the number of entries the map held when it was copied.
  std::uint64_t count() const { return count_; }
  // next hands out the entries in key order; false after the last, or when
  // the copy turns out damaged (status() then says how). The views point
  // into the copy. Keys that had expired when the copy was taken are left
  // out, so fewer than count() may come.
  bool next(snapshot::Record* record);
  const Status& status() const { return status_; }

 private:
  friend class Store;
  SnapshotCopy() = default;
  struct Walk;
  char* memory_ = nullptr;
  std::size_t size_ = 0;
  std::uint64_t count_ = 0;
  std::uint64_t now_ms_ = 0;
  std::unique_ptr<Walk> walk_;
  Status status_;
};

class Store {
 public:
  // open attaches the segment called name when it exists, keeping its data,
  // and otherwise creates it with size bytes and mode 0600. A segment that is
  // not a shmkv store of this format is refused with kCorrupt, never misread.
  static Status open(const std::string& name, std::size_t size, std::unique_ptr<Store>* out);

  // exists says whether a segment called name exists.
  static bool exists(const std::string& name);

  // remove deletes the segment called name; not found when there is none.
  static Status remove(const std::string& name);

  // claim makes this process the segment's one server, until it exits (an
  // advisory lock on the segment's file, inherited by its workers). A segment
  // already claimed by a live shmkvd is refused with kBusy. Claiming again
  // (after a fork) records the calling process as the server.
  Status claim();

  ~Store();

  // created says whether open made a new segment (rather than attaching).
  bool created() const { return created_; }
  const std::string& name() const { return name_; }

  // get copies the value stored under key into *value, or returns not found
  // and leaves *value unchanged.
  Status get(std::string_view key, std::string* value);

  // Lookup is one key of a get_many, and what was found for it.
  struct Lookup {
    std::string_view key;
    std::string value;  // the value, when found
    bool found = false;
  };

  // get_many does a get for every lookup in one hold of the lock, with
  // their cache misses overlapped rather than taken one after another: in a
  // store of a million keys a pipelined batch of GETs costs little more than
  // one.
  Status get_many(Lookup* lookups, std::size_t count);

  // put stores value under key, replacing any earlier value. When the segment
  // has no room it returns kFull and the earlier value, if any, is kept.
  Status put(std::string_view key, std::string_view value);

  // del removes key; not found when it was absent.
  Status del(std::string_view key);

  // scan returns up to limit keys that start with prefix and sort after
  // *after (when after is given), stopping early once the keys' lengths add up
  // to max_bytes.
  Status scan(std::string_view prefix, const std::string_view* after, std::size_t limit,
              std::size_t max_bytes, Page* page);

  Counts counts();

  // key_count is the number of keys without taking the store lock, for the
  // parent process, which never takes it.
  std::size_t key_count() const;

  // Recovery (store_recovery.cpp). A process that dies holding the store
  // lock leaves it unusable for good (Boost marks the robust mutex not
  // recoverable), so the store is rebuilt in a fresh segment instead.

  // check_lock takes and releases the lock, waiting at most timeout_ms: ok;
  // kCorrupt when a dead process left it unusable; kBusy on a timeout.
  Status check_lock(int timeout_ms);

  // salvage_into copies every entry into a new segment called new_name of
  // the same size, walking the map without its lock. Every node and string
  // is checked to lie inside this segment and keys to ascend, so a damaged
  // map ends in an error (or, at worst, a crash of the calling process:
  // call it in a child). *copied counts the entries.
  Status salvage_into(const std::string& new_name, std::size_t* copied);

  // replace renames segment `from` to `to`, replacing it atomically.
  static Status replace(const std::string& from, const std::string& to);

  // Snapshots (store_snapshot.cpp). snapshot_copy copies the segment's
  // used pages into private memory while it holds the lock, and nothing
  // else: the map is walked, and the file written, without it. *lock_us is
  // how long the lock was held.
  Status snapshot_copy(std::unique_ptr<SnapshotCopy>* out, std::uint64_t* lock_us);

  // load_snapshot inserts a checked snapshot's records into this store,
  // which must be empty and served by nobody yet, leaving out the keys that
  // expired before now_ms (Unix ms). kFull when the segment is too small.
  Status load_snapshot(snapshot::File& file, std::uint64_t now_ms, std::size_t* loaded, std::size_t* expired);

  // Test hooks for DEBUG (--debug-commands): hold the lock for ms; abort
  // the process while holding it.
  Status debug_hold_lock(std::uint32_t ms);
  [[noreturn]] void debug_crash_in_store();

 private:
  Store() = default;

  std::unique_ptr<Segment> segment_;
  std::string name_;
  bool created_ = false;
  int claim_fd_ = -1;
};

}  // namespace shmkv::store
