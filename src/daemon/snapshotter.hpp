// Snapshots in the daemon (shmkv-protocol(7), Snapshots): the load of the
// snapshot into a new store at start-up, the writing of one (by a worker that
// got SAVE, or by a short-lived child the parent forks on the interval and at
// shutdown: never by the parent, which does not take the store lock), one at
// a time, and what STATS says about the last one.
//
// The process that saves (the saver) copies the store, then forks a writer
// that writes the file from the copy and reports through a pipe: a writer
// killed mid-write (SIGKILL, the OOM killer) costs that save only. The saver
// removes its temporary file, records the failure and answers it; the
// parent does the same when the saver itself dies.
#pragma once

#include <cstdint>
#include <string>

#include "daemon/scoreboard.hpp"
#include "shmkv/status.hpp"
#include "store/store.hpp"

namespace shmkv::snapshotter {

// Test hooks (shmkvd --debug-commands), in milliseconds.
struct DebugDelays {
  int writer = 0;      // every writer sleeps this long before it finishes its file
  int copy_pause = 0;  // every copy pauses this long after each part, holding the lock
};

// init records the snapshot's path (empty: snapshots off) and sets up the
// save lock in the scoreboard. Call it once, before the first fork.
Status init(scoreboard::Scoreboard& board, const std::string& path, DebugDelays debug = {});

// load_at_start removes the temporary files a crashed save left beside the
// snapshot and, when the store was just created (after a reboot) and a
// snapshot exists, fills the store from it, leaving out expired keys. A
// damaged snapshot is an error that names it and says what to do; the file
// is left as it was. *loaded counts the keys loaded.
Status load_at_start(store::Store& store, const std::string& path, std::size_t* loaded);

struct Saved {
  std::uint64_t keys = 0;
  std::uint64_t bytes = 0;
  std::uint64_t ms = 0;       // the whole save, from the copy to the rename
  std::uint64_t lock_us = 0;  // how long the store lock was held
};

// save writes the snapshot now and returns once it is on disk: it waits for
// a save under way to finish, copies the store (slot, when given, is marked
// in the store meanwhile), writes the file without the lock, and records the
// outcome for STATS. A failure leaves the previous snapshot as it was.
// REQUIRES: a worker or a snapshot child, never the parent.
Status save(store::Store& store, scoreboard::Scoreboard& board, scoreboard::Slot* slot, Saved* out);

// request_save asks the parent to start a snapshot child now, and wakes it
// (RESP BGSAVE): kInvalid when snapshots are off, kBusy when a save is under
// way or already asked for (with schedule the request stands then, and is
// taken once that save is over, and the result is ok).
Status request_save(scoreboard::Scoreboard& board, bool schedule = false);

// take_save_request is the parent's side: whether a save was asked for
// (and the request is cleared).
inline bool take_save_request(scoreboard::Scoreboard& board) {
  return board.snapshot.save_requested.exchange(false);
}

// saving says whether a save is under way.
inline bool saving(const scoreboard::Scoreboard& board) { return board.snapshot.saver.load() != 0; }

// record_failure records for STATS a save that failed where save could not
// say so itself (its process died).
void record_failure(scoreboard::Scoreboard& board, const std::string& why);

// process_died is the parent's part when a worker or snapshot child died
// abnormally (who: "worker 123 killed by signal 9 (Killed)"): when it was
// saving, the save failed (recorded for STATS) and the temporary file its
// writer (killed with it) left is removed, and it returns true; otherwise
// it does nothing and returns false. The caller logs the death.
bool process_died(scoreboard::Scoreboard& board, pid_t pid, const std::string& who);

// status is STATS' snapshot_status: "off", "ok" or "failed: REASON".
std::string status(scoreboard::Scoreboard& board);

// changed counts one change to the store, for changes_since_save and the
// interval's "anything to save?". Workers call it after each change.
inline void changed(scoreboard::Scoreboard& board) {
  board.snapshot.changes.fetch_add(1, std::memory_order_relaxed);
}

inline bool enabled(const scoreboard::Scoreboard& board) { return board.snapshot.path[0] != '\0'; }

inline std::uint64_t changes_since_save(const scoreboard::Scoreboard& board) {
  return board.snapshot.changes.load() - board.snapshot.changes_at_save.load();
}

}  // namespace shmkv::snapshotter
