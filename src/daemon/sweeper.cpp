#include "daemon/sweeper.hpp"

#include <time.h>

#include <algorithm>

#include "common/log.hpp"

namespace shmkv::sweeper {
namespace {

// The schedule runs on the monotonic clock: a step of the wall clock must
// not stop the sweeps or run them back to back. (Expiry times themselves
// are wall-clock, in the store.)
std::int64_t monotonic_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

int wait_ms(const scoreboard::Scoreboard& board) {
  const std::int64_t left = board.sweep_due_ms.load(std::memory_order_relaxed) - monotonic_ms();
  return static_cast<int>(std::clamp<std::int64_t>(left, 0, kIntervalMs));
}

void turn(store::Store& store, scoreboard::Scoreboard& board, scoreboard::Slot& slot) {
  const std::int64_t now = monotonic_ms();
  std::int64_t due = board.sweep_due_ms.load(std::memory_order_relaxed);
  if (due > now) return;
  if (!board.sweep_due_ms.compare_exchange_strong(due, now + kIntervalMs)) return;  // another took it
  if (board.health.load() != scoreboard::Health::kOk) return;  // the parent is rebuilding the store
  bool more = false;
  std::size_t total = 0;
  for (int step = 0; step < kStepsPerTurn; ++step) {
    std::size_t removed = 0;
    const scoreboard::State was = slot.state.exchange(scoreboard::State::kInStore);
    const Status s = store.sweep(kKeysPerStep, &removed, &more);
    slot.state.store(was);
    total += removed;
    if (!s) {
      // A recovery begun meanwhile is the parent's to log, once.
      if (store::recovering(s)) log::debug("expiry sweep: {}", s.message());
      else log::error("expiry sweep: {}", s.message());
      return;
    }
    if (!more) break;
  }
  if (total > 0) log::debug("expiry sweep removed {} keys{}", total, more ? ", more to come" : "");
  if (more) board.sweep_due_ms.store(monotonic_ms(), std::memory_order_relaxed);
}

}  // namespace shmkv::sweeper
