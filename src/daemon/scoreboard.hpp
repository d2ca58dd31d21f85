// The scoreboard: what the daemon's processes know of each other, in one
// small shared mapping that the parent creates before it forks (not in the
// store, which the parent never touches). One slot per possible worker, with
// its pid and state, and the daemon-wide counters that STATS reports.
#pragma once

#include <pthread.h>
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>

namespace shmkv::scoreboard {

enum class State : std::uint32_t {
  kFree = 0,  // no worker
  kIdle,      // waiting for a connection
  kBusy,      // serving a connection, outside the store
  kInStore,   // serving a connection, about to take or holding the store lock
};

// The store's health, as the parent last judged it.
enum class Health : std::uint32_t {
  kOk = 0,
  kRecovering,  // a worker died in the store; the parent is rebuilding it
  kFailed,      // recovery failed: the store is not served (see failure)
};

// What the processes share about snapshots (snapshotter.hpp): set up by
// snapshotter::init before the first fork.
struct SnapshotBoard {
  char path[4096] = {};  // --snapshot; empty: off. Constant after start-up.
  // One save at a time: a robust, process-shared mutex, so a saver that
  // dies holding it does not stop the next.
  pthread_mutex_t save_mutex;
  // The process saving now (holding save_mutex), 0 when none: when it dies
  // the parent knows that a save died with it (snapshotter::process_died).
  std::atomic<pid_t> saver{0};
  // Set by a worker that got BGSAVE, cleared by the parent as it starts a
  // snapshot child (snapshotter::request_save).
  std::atomic<bool> save_requested{false};
  // Counted by the workers after every change to the store.
  std::atomic<std::uint64_t> changes{0};
  // Written by the saver holding save_mutex, read by STATS without it.
  std::atomic<std::uint64_t> changes_at_save{0};  // changes counted when its copy was taken
  std::atomic<std::int64_t> last_save{0};         // Unix time of the last snapshot written; 0: never
  std::atomic<std::uint64_t> last_save_keys{0};
  std::atomic<std::uint64_t> last_save_ms{0};
  std::atomic<bool> failed{false};
  std::atomic<std::uint32_t> failure_seq{0};  // odd while failure is written (a seqlock)
  char failure[240] = {};
};

// A slot has a cache line of its own: each worker writes its own slot on
// every request, and sharing lines would bounce them between the cores.
struct alignas(64) Slot {
  std::atomic<pid_t> pid{0};
  std::atomic<State> state{State::kFree};
  std::atomic<std::uint64_t> requests{0};  // answered by this slot's worker
  // CLOCK_MONOTONIC milliseconds when the worker (or the snapshot child)
  // took the store lock or, in a snapshot copy, last moved on; 0 while it
  // does not hold it (the store writes it: store::LockWatch). The parent
  // kills a holder that is later than --lock-timeout.
  std::atomic<std::int64_t> lock_held_since{0};
  // Set while the worker sleeps as a follower (acceptor.hpp), so that the
  // parent can take a dead one off the count.
  std::atomic<bool> following{false};
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free && std::atomic<State>::is_always_lock_free,
              "what processes share must be lock-free atomics");

class Scoreboard {
 public:
  // create maps a scoreboard with `slots` slots, shared with every process
  // forked afterwards; nullptr (errno set) if mmap or eventfd fails.
  static Scoreboard* create(std::size_t slots);

  // Slots are reserved and released by the parent only, before fork and at
  // reap, so no two processes race for one. reserve returns -1 when full.
  int reserve(State initial);
  void release(int slot);
  Slot& slot(int index) { return slots_[index]; }

  // count counts the slots in a state: a scan of the slots ever used, done
  // twice per connection in a worker, never per request.
  std::size_t count(State state) const;

  // Constant after start-up.
  pid_t daemon_pid = 0;
  std::time_t started = 0;
  // Counted by the workers.
  std::atomic<std::uint64_t> connections_total{0};
  // Requests answered by workers that have exited (release() adds their
  // slot's count); requests() adds the live workers'.
  std::atomic<std::uint64_t> requests_total{0};
  std::uint64_t requests() const;
  // Written by the parent only.
  std::atomic<Health> health{Health::kOk};
  std::atomic<std::uint64_t> recoveries{0};
  std::atomic<std::int64_t> last_recovery{0};  // Unix time; 0: never
  // When the next expiry sweep is due (CLOCK_MONOTONIC milliseconds): the
  // idle worker that claims it moves it on (sweeper.hpp).
  std::atomic<std::int64_t> sweep_due_ms{0};
  // Who waits for connections (acceptor.hpp): the slot of the idle worker
  // sleeping on the listeners, -1 while none does; how many idle workers
  // sleep on handoff_fd, an eventfd that wakes one of them to lead, made
  // here before the first fork.
  static constexpr int kNoLeader = -1;
  std::atomic<int> leader{kNoLeader};
  std::atomic<int> followers{0};
  int handoff_fd = -1;
  // keep_leader wakes a follower to lead when no idle worker does: for a
  // worker about to sleep on its client, wait for a snapshot save, or exit,
  // and for the parent when a worker dies or stops. One atomic load while
  // one leads.
  void keep_leader();

  // set_health records the store's health and a line that says more (why
  // it failed; how a recovery goes), or none; health_detail reads that line
  // whole, never half of an old one and half of a new one.
  void set_health(Health health, const char* detail = "");
  std::string health_detail() const;
  // set_failed marks the store not served, for the reason given.
  void set_failed(const char* why) { set_health(Health::kFailed, why); }

  SnapshotBoard snapshot;

  // active counts the workers serving a connection (busy or in the store).
  std::size_t active() const { return count(State::kBusy) + count(State::kInStore); }

 private:
  Scoreboard() = default;

  std::size_t slot_count_ = 0;
  Slot* slots_ = nullptr;  // slot_count_ slots, right after this object
  // One past the highest slot ever reserved. reserve() takes the lowest free
  // slot, so the scans stop here rather than touch a cache line for every
  // possible worker; set by the parent, read by everyone.
  std::atomic<std::size_t> used_{0};
  // health's detail, under a sequence lock: odd while the parent writes it.
  static constexpr std::size_t kDetailSize = 240;
  std::atomic<std::uint32_t> detail_sequence_{0};
  std::atomic<char> detail_[kDetailSize] = {};
};

// InStore marks a worker's slot "in the store" for its lifetime: put one
// around every store call, so that the parent knows what a death there
// means. A null slot (tests) marks nothing.
class InStore {
 public:
  explicit InStore(Slot* slot) : slot_(slot) {
    if (slot_) slot_->state.store(State::kInStore);
  }
  ~InStore() {
    if (slot_) slot_->state.store(State::kBusy);
  }
  InStore(const InStore&) = delete;
  InStore& operator=(const InStore&) = delete;

 private:
  Slot* slot_;
};

}  // namespace shmkv::scoreboard
