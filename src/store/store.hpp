// The store: the dictionary in a Boost.Interprocess managed shared-memory
// segment, shared by every worker process. It owns the segment's layout, its
// lock and the map; everyone else goes through this interface, whose errors are
// Status values (no Boost exception leaves this module).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "shmkv/status.hpp"
#include "store/snapshot.hpp"

namespace shmkv::store {

inline constexpr std::size_t kDefaultSize = std::size_t(64) << 20;
inline constexpr std::size_t kMinimumSize = std::size_t(64) << 10;
inline constexpr std::size_t kMaximumSize = std::size_t(32) << 30;  // what the hash index can address

// Kind is what a stored value is (shmkv-protocol(7), Value kinds): JSON text,
// as PUT over the JSON protocol stores it, or raw bytes, as a RESP SET will.
enum class Kind : std::uint8_t { kJson = 0, kBytes = 1 };

// Condition is PUT's "if" (shmkv-protocol(7), Conditional PUT).
enum class Condition : std::uint8_t { kAlways, kIfAbsent, kIfPresent };

// The longest expiry: 10 years, in milliseconds.
inline constexpr std::int64_t kMaxTtlMs = std::int64_t(315360000) * 1000;

struct PutOptions {
  Kind kind = Kind::kJson;
  std::int64_t ttl_ms = 0;  // 1..kMaxTtlMs; 0: the key never expires
  Condition condition = Condition::kAlways;
};

struct Counts {
  std::size_t keys = 0;
  std::size_t store_bytes = 0;  // size of the segment
  std::size_t free_bytes = 0;   // what the allocator has left
  std::size_t keys_with_ttl = 0;
  std::uint64_t expired_total = 0;  // expired keys removed since the store was made
};

// Clock gives the wall-clock time in milliseconds since the Unix epoch, the
// time expiries are kept in. Tests replace it to reach an expiry exactly.
using Clock = std::function<std::int64_t()>;
std::int64_t wall_clock_ms();

// One page of a key scan: keys in ascending byte order.
struct Page {
  std::vector<std::string> keys;
  bool more = false;  // further matching keys exist beyond this page
};

class Segment;  // the Boost objects, kept out of this header

// SegmentAccess is who besides the daemon's own user may read the segment
// (shmkvd --segment-mode and --segment-group): a local reader with read
// access to it can read every key. Nobody else may ever write it.
struct SegmentAccess {
  static constexpr unsigned kOwnerOnly = 0600;
  static constexpr unsigned kMostOpen = 0644;  // the owner's read and write, read for the rest
  unsigned mode = kOwnerOnly;  // kOwnerOnly plus any of 040 and 004
  gid_t group = static_cast<gid_t>(-1);  // -1: the group the segment was made with
};

// The one error a request gets when the store's lock cannot be had because a
// process died holding it: the daemon is rebuilding the store (shmkv-protocol(7),
// Errors). It names no library.
inline constexpr char kRecovering[] = "store unavailable: recovering, retry";

// recovering says whether s is that error: the request may be retried, and
// the daemon logs the recovery itself, once.
inline bool recovering(const Status& s) { return s.message() == kRecovering; }

// LockWatch is how a daemon watches the store's lock in one process; both
// members are optional.
struct LockWatch {
  // Set to the CLOCK_MONOTONIC time in milliseconds (never 0) when this
  // process takes the lock, renewed as a long hold moves on (a snapshot
  // copy), and set to 0 when it lets go, so that another process can see
  // a holder that keeps it too long.
  std::atomic<std::int64_t>* held_since = nullptr;
  // Asked every few milliseconds while this process waits for the lock;
  // true ends the wait with kRecovering (the holder is known to be dead).
  std::function<bool()> give_up;
};

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
  // and otherwise creates it with size bytes; either way the segment gets
  // access's mode and group. A segment that another user owns, or whose mode
  // or group lets more users in than access does, is refused with kInvalid:
  // someone else made it or opened it up. A segment that is not a shmkv store
  // of this format is refused with kCorrupt, never misread.
  static Status open(const std::string& name, std::size_t size, std::unique_ptr<Store>* out,
                     const SegmentAccess& access = {});

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

  // watch_lock installs this process's LockWatch (see above).
  void watch_lock(LockWatch watch) { watch_ = std::move(watch); }

  // created says whether open made a new segment (rather than attaching).
  bool created() const { return created_; }
  const std::string& name() const { return name_; }
  const SegmentAccess& access() const { return access_; }

  // set_clock replaces the clock the store reads expiries against (tests).
  void set_clock(Clock clock) { clock_ = std::move(clock); }

  // get copies the value stored under key into *value (and its kind into
  // *kind, when given), or returns not found and leaves *value unchanged.
  // An expired key is not found (shmkv-protocol(7), Expiry).
  Status get(std::string_view key, std::string* value, Kind* kind = nullptr);

  // Lookup is one key of a get_many, and what was found for it.
  struct Lookup {
    std::string_view key;
    std::string value;  // the value, when found and wanted
    bool found = false;
    Kind kind = Kind::kJson;
    bool value_wanted = true;  // false: only found and kind are set (EXISTS)
  };

  // get_many does a get for every lookup in one hold of the lock, with
  // their cache misses overlapped rather than taken one after another: in a
  // store of a million keys a pipelined batch of GETs costs little more than
  // one.
  Status get_many(Lookup* lookups, std::size_t count) {
    std::size_t done = 0;
    return get_some(lookups, count, SIZE_MAX, &done);
  }
  // get_some is get_many that stops after the lookup whose value brings the
  // bytes copied to max_bytes or more, so that one command naming a big key
  // many times cannot make the caller hold all of their copies at once. It
  // sets *done to how many lookups, from the first, it made: at least one
  // when count > 0 and it succeeds.
  Status get_some(Lookup* lookups, std::size_t count, std::size_t max_bytes, std::size_t* done);

  // put stores value under key, replacing any earlier value and its
  // expiry, with options' kind and ttl. When options' condition does not hold
  // it changes nothing and sets *stored (when given) false. When the segment
  // has no room it returns kFull and the earlier value, if any, is kept.
  Status put(std::string_view key, std::string_view value, const PutOptions& options = {},
             bool* stored = nullptr);

  // Write is one key of a put_many, and how its put went.
  struct Write {
    std::string_view key;
    std::string_view value;
    Status status;  // as put's: ok, or kFull with the earlier value kept
  };

  // put_many does a put of every write, in order, with kind and no
  // condition or expiry, up to kBatch writes per hold of the lock: a
  // pipelining client's writes then take the lock once per batch, and the
  // lock and the store's busiest cache lines stop passing between CPUs on
  // every write. It fails as a whole only when the lock cannot be had or a
  // recovery begins: then some of the writes may have been made.
  Status put_many(Write* writes, std::size_t count, Kind kind);

  // incr adds by to the integer stored under key (0 when absent), stores
  // the sum as a JSON integer, keeping the key's expiry, and sets *result.
  // A value that is not a decimal integer in signed 64-bit range, or a sum
  // outside it, is kInvalid and changes nothing (shmkv-protocol(7), INCR).
  Status incr(std::string_view key, std::int64_t by, std::int64_t* result);

  // expire sets key's expiry ttl_ms from now, or removes it when ttl_ms is
  // 0; not found when key is absent.
  Status expire(std::string_view key, std::int64_t ttl_ms);

  // ttl sets *ms_left to the milliseconds before key expires, or -1 when it
  // never does; not found when key is absent.
  Status ttl(std::string_view key, std::int64_t* ms_left);

  // del removes key; not found when it was absent.
  Status del(std::string_view key);

  // sweep removes up to max_keys expired keys in one hold of the lock, the
  // soonest expired first, visiting no other key: the lock is held for
  // max_keys removals at most, whatever the number of expired keys.
  // *removed counts them; *more says whether expired keys remain.
  Status sweep(std::size_t max_keys, std::size_t* removed, bool* more);

  // scan returns up to limit keys that start with prefix and sort after
  // *after (when after is given), stopping early once the keys' lengths add up
  // to max_bytes.
  Status scan(std::string_view prefix, const std::string_view* after, std::size_t limit,
              std::size_t max_bytes, Page* page);

  // scan_buckets walks the hash index from cursor (0 to start) for Redis's
  // SCAN (shmkv-protocol(7), RESP cursors), bucket by bucket, putting the
  // keys it finds, expired ones left out, in page->keys, until it has at
  // least count keys or has walked 10 * count buckets (and at least 1,024,
  // a new index's); *next is the cursor
  // to go on from, 0 when the walk is over. Every key present for the whole
  // walk is found at least once, whatever is added, removed, or how the
  // index grows in between; some may be found twice.
  Status scan_buckets(std::uint32_t cursor, std::size_t count, Page* page, std::uint32_t* next);

  Counts counts();

  // key_count is the number of keys, and size the segment's size in bytes,
  // without taking the store lock, for the parent process, which never takes it.
  std::size_t key_count() const;
  std::size_t size() const;

  // Recovery (store_recovery.cpp). A process that dies holding the store
  // lock leaves it unusable for good (Boost marks the robust mutex not
  // recoverable), so the store is rebuilt in a fresh segment instead.

  // check_lock takes and releases the lock, waiting at most timeout_ms: ok;
  // kCorrupt when a dead process left it unusable; kBusy on a timeout.
  Status check_lock(int timeout_ms);

  // salvage_into copies every entry into a new segment called new_name,
  // walking the map without its lock. Every node and string is checked to
  // lie inside this segment and keys to ascend, so a damaged map ends in
  // kCorrupt (or, at worst, a crash of the calling process: call it in a
  // child). The new segment has this one's size, or more when the entries
  // and a full-sized hash index do not fit in that (a store that filled up
  // is full, not damaged); *copied counts the entries and *bytes gives the
  // new segment's size. A segment that cannot be created is kIo.
  Status salvage_into(const std::string& new_name, std::size_t* copied, std::size_t* bytes);

  // replace renames segment `from` to `to`, replacing it atomically.
  static Status replace(const std::string& from, const std::string& to);

  // publish renames segment `from` to `to`, which must not exist: kBusy
  // when it does (another process made it meanwhile), and nothing changes.
  static Status publish(const std::string& from, const std::string& to);

  // retire marks this segment replaced (after replace put a fresh one under
  // its name) or about to be removed, so that local readers still mapping it
  // open the name again (shmkv-protocol(7), Local readers). It takes no lock
  // and changes nothing else: the parent may call it.
  void retire();

  // Snapshots (store_snapshot.cpp). snapshot_copy copies the segment's
  // used pages into private memory while it holds the lock, and nothing
  // else: the map is walked, and the file written, without it. *lock_us is
  // how long the lock was held. The copy goes a part at a time, and each
  // part renews the LockWatch's held_since: a copy of a large store may
  // hold the lock for seconds, and is stuck only when a part takes that
  // long. debug_pause_ms (a test hook) pauses after each part.
  Status snapshot_copy(std::unique_ptr<SnapshotCopy>* out, std::uint64_t* lock_us, int debug_pause_ms = 0);

  // load_snapshot inserts a checked snapshot's records into this store,
  // which must be empty and served by nobody yet, leaving out the keys that
  // expired before now_ms (Unix ms). kFull when the segment is too small.
  // accept, when given, is asked about each record first, and its error
  // ends the load: what the store cannot tell about a value (whether it
  // is JSON text) is the caller's to check.
  Status load_snapshot(snapshot::File& file, std::uint64_t now_ms, std::size_t* loaded, std::size_t* expired,
                       const std::function<Status(const snapshot::Record&)>& accept = {});

  // Test hooks for DEBUG (--debug-commands): hold the lock for ms; abort
  // the process while holding it.
  Status debug_hold_lock(std::uint32_t ms);
  [[noreturn]] void debug_crash_in_store();
  // For the unit tests: abort holding the lock halfway through a change,
  // as a writer killed there leaves the store. kTree: two pointer writes
  // into a rotation at the root, which cut the root's right child and its
  // right subtree off the tree; kIndex: the rest of a chain cut off after
  // its first node, as a growth step of the index does. The store must
  // hold at least a few hundred keys.
  enum class Torn { kTree, kIndex };
  [[noreturn]] void debug_crash_mid_change(Torn torn);

 private:
  Store() = default;

  // locked runs fn (returning Status) with the store lock held, and returns
  // what fn returned; every operation takes the lock through it. When the
  // lock cannot be had (a process died holding it, or watch_.give_up said
  // so) fn is not run and the result is kRecovering: with kCorrupt when the
  // lock is unusable, kBusy when give_up ended the wait. Defined in
  // store_layout.hpp; lock and unlock are its halves.
  template <typename Fn>
  Status locked(Fn&& fn);
  Status lock();
  void unlock();
  // still_holding tells the LockWatch that a long hold of the lock still
  // moves (held_since becomes now).
  void still_holding();

  std::int64_t now_ms() const { return clock_ ? clock_() : wall_clock_ms(); }

  // apply_access gives the segment called name access's mode and group
  // (store.cpp), for open and for salvage's fresh segment before it is
  // renamed into place, so that readers never find it closed to them.
  static Status apply_access(const std::string& name, const SegmentAccess& access);

  std::unique_ptr<Segment> segment_;
  LockWatch watch_;
  Clock clock_;  // empty: wall_clock_ms
  std::string name_;
  SegmentAccess access_;
  bool created_ = false;
  int claim_fd_ = -1;
};

}  // namespace shmkv::store
