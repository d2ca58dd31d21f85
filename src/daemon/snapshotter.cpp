#include "daemon/snapshotter.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <vector>

#include "common/log.hpp"
#include "store/snapshot.hpp"

namespace shmkv::snapshotter {
namespace {

using Clock = std::chrono::steady_clock;

std::uint64_t now_unix_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// SaveLock holds the board's save mutex. A saver that died holding it left
// nothing shared half-done that the next one reads (the snapshot file is
// its own temporary until renamed), so its state is simply declared good.
class SaveLock {
 public:
  explicit SaveLock(pthread_mutex_t* mutex) : mutex_(mutex) {
    int rc = pthread_mutex_lock(mutex_);
    if (rc == EOWNERDEAD) {
      pthread_mutex_consistent(mutex_);
      rc = 0;
    }
    held_ = rc == 0;
  }
  ~SaveLock() {
    if (held_) pthread_mutex_unlock(mutex_);
  }
  bool held() const { return held_; }

 private:
  pthread_mutex_t* mutex_;
  bool held_ = false;
};

// set_failure writes the failure text under the seqlock. REQUIRES: the save
// lock held (or the parent, with no saver running).
void set_failure(scoreboard::SnapshotBoard& b, const std::string& why) {
  b.failure_seq.fetch_add(1);
  std::snprintf(b.failure, sizeof b.failure, "%s", why.c_str());
  b.failure_seq.fetch_add(1);
  b.failed.store(true);
}

Status write_copy(store::SnapshotCopy& copy, const std::string& path, std::uint64_t* keys, std::uint64_t* bytes) {
  // The file announces its record count first, and expired keys are left
  // out as the copy is walked: the records (views into the copy) are
  // gathered before the file is begun.
  std::vector<snapshot::Record> records;
  records.reserve(copy.count());
  snapshot::Record r;
  while (copy.next(&r)) records.push_back(r);
  if (!copy.status()) return Status::corrupt(fmt::format("snapshot {}: {}", path, copy.status().message()));
  std::unique_ptr<snapshot::Writer> writer;
  if (Status s = snapshot::Writer::open(path, records.size(), &writer); !s) return s;
  for (const snapshot::Record& rec : records)
    if (Status s = writer->add(rec); !s) return s;
  if (Status s = writer->commit(bytes); !s) return s;
  *keys = records.size();
  return Status::ok();
}

}  // namespace

Status init(scoreboard::Scoreboard& board, const std::string& path) {
  scoreboard::SnapshotBoard& b = board.snapshot;
  if (path.size() >= sizeof b.path) return Status::invalid(fmt::format("--snapshot path is too long: {}", path));
  std::snprintf(b.path, sizeof b.path, "%s", path.c_str());
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  const int rc = pthread_mutex_init(&b.save_mutex, &attr);
  pthread_mutexattr_destroy(&attr);
  if (rc != 0) return Status::io(errno_text("the snapshot save lock", rc));
  return Status::ok();
}

Status load_at_start(store::Store& store, const std::string& path, std::size_t* loaded) {
  *loaded = 0;
  int removed = 0;
  if (Status s = snapshot::remove_temporaries(path, &removed); !s) return s;
  if (removed > 0) log::warning("removed {} temporary snapshot files that an interrupted save left beside {}", removed, path);
  if (!store.created()) return Status::ok();
  snapshot::File file;
  Status s = snapshot::File::read(path, &file);
  if (s.is_not_found()) return Status::ok();
  const std::string advice = fmt::format(
      "; shmkvd did not start and left the file as it was: move it aside (mv {0} {0}.bad) to start with an "
      "empty store, or put a good snapshot in its place",
      path);
  if (!s) return Status(s.code() == Status::Code::kCorrupt ? Status::corrupt(s.message() + advice) : s);
  std::size_t expired = 0;
  s = store.load_snapshot(file, now_unix_ms(), loaded, &expired);
  if (!s) return Status::corrupt(fmt::format("loading snapshot {}: {}", path, s.message()));
  log::info("loaded {} keys from {}{}", *loaded, path,
            expired ? fmt::format(" ({} had expired and were left out)", expired) : std::string());
  return Status::ok();
}

Status save(store::Store& store, scoreboard::Scoreboard& board, scoreboard::Slot* slot, Saved* out) {
  scoreboard::SnapshotBoard& b = board.snapshot;
  if (!enabled(board)) return Status::invalid("snapshots are off: start shmkvd with --snapshot PATH");
  const std::string path = b.path;
  SaveLock lock(&b.save_mutex);
  if (!lock.held()) return Status::io("the snapshot save lock is unusable");
  const auto start = Clock::now();
  // Changes counted before the copy are in it; one counted while it is
  // taken may be in it too, and is saved again next time: never lost.
  const std::uint64_t changes = b.changes.load();
  std::unique_ptr<store::SnapshotCopy> copy;
  Status s;
  {
    if (slot) slot->state.store(scoreboard::State::kInStore);
    s = store.snapshot_copy(&copy, &out->lock_us);
    if (slot) slot->state.store(scoreboard::State::kBusy);
  }
  if (s) s = write_copy(*copy, path, &out->keys, &out->bytes);
  copy.reset();
  out->ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
  if (!s) {
    log::error("snapshot {} not written, the previous one is kept: {}", path, s.message());
    set_failure(b, s.message());
    return s;
  }
  b.changes_at_save.store(changes);
  b.last_save_keys.store(out->keys);
  b.last_save_ms.store(out->ms);
  b.last_save.store(std::time(nullptr));
  b.failed.store(false);
  log::info("snapshot {} written: {} keys, {} bytes in {} ms (store lock held {} us)", path, out->keys, out->bytes,
            out->ms, out->lock_us);
  return Status::ok();
}

void record_failure(scoreboard::Scoreboard& board, const std::string& why) { set_failure(board.snapshot, why); }

std::string status(scoreboard::Scoreboard& board) {
  const scoreboard::SnapshotBoard& b = board.snapshot;
  if (!enabled(board)) return "off";
  if (!b.failed.load()) return "ok";
  for (int tries = 0; tries < 100; ++tries) {
    const std::uint32_t before = b.failure_seq.load();
    if (before & 1) continue;
    char text[sizeof b.failure];
    std::memcpy(text, b.failure, sizeof text);
    if (b.failure_seq.load() != before) continue;
    text[sizeof text - 1] = '\0';
    return fmt::format("failed: {}", text);
  }
  return "failed";
}

}  // namespace shmkv::snapshotter
