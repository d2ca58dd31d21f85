// Active expiry (shmkv-protocol(7), Expiry): who removes the expired keys that
// nobody reads again, and when. The workers waiting in accept() do it, one at
// a time, in bounded steps; the store does each step (Store::sweep).
#pragma once

#include <cstddef>
#include <cstdint>

#include "daemon/scoreboard.hpp"
#include "store/store.hpp"

namespace shmkv::sweeper {

// Why idle workers, and not the parent or a sweeper child of its own: the
// parent never takes the store lock (main.cpp), and an idle worker already
// is what a sweeper child would be, a process in the scoreboard whose death
// in the store the parent recovers from (its slot says kInStore during each
// step, as for a request), with nothing new to spawn, watch or restart. Idle
// workers wake every kIntervalMs; the first to find a sweep due claims it
// (sweep_due_ms in the scoreboard), so the pool sweeps about once a second
// however many workers are idle. A sweep does at most kStepsPerTurn steps of
// at most kKeysPerStep keys, each a hold of the lock of its own (a removal
// costs about a microsecond, so a step well under a millisecond), and
// leaves the next turn due at once when expired keys remain, so a waiting
// connection is taken between turns. With no idle worker (--spare-workers
// 0, or every worker at --max-children busy) nobody sweeps: expired keys
// stay invisible, and their memory returns once a worker is idle again.
inline constexpr int kIntervalMs = 1000;
inline constexpr std::size_t kKeysPerStep = 64;
inline constexpr int kStepsPerTurn = 16;

// wait_ms is how long an idle worker may wait before a sweep is due: 0 to
// kIntervalMs.
int wait_ms(const scoreboard::Scoreboard& board);

// turn runs a sweep if one is due and this process claims it. slot is the
// calling worker's, marked in the store during each step.
void turn(store::Store& store, scoreboard::Scoreboard& board, scoreboard::Slot& slot);

}  // namespace shmkv::sweeper
