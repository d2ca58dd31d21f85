// Recovery: what the parent does about a store whose lock a dead process left
// unusable. The work that touches the store's data (the lock check, the walk
// of the map) runs in a child process with a time limit, so that the parent
// never takes the store lock and a damaged map can at worst kill the child.
#pragma once

#include <cstddef>
#include <memory>

#include "shmkv/status.hpp"
#include "store/store.hpp"

namespace shmkv::recovery {

// The longest a salvage may take before it is judged stuck (a cycle in a
// damaged map, say): ample for a 1 GiB store.
inline constexpr int kSalvageTimeoutMs = 30000;

// check tells whether the store's lock is usable (ok), unusable (kCorrupt),
// or held by a live process for longer than timeout_ms (kBusy).
Status check(store::Store& store, int timeout_ms);

struct Options {
  int timeout_ms = kSalvageTimeoutMs;
  int debug_delay_ms = 0;  // the salvage sleeps this long first (a test hook)
};

// What a rebuild made: the keys copied, and the fresh segment's size (more
// than the old one's when a full store did not fit that again).
struct Rebuilt {
  std::size_t keys = 0;
  std::size_t bytes = 0;
};

// rebuild copies the store into a fresh segment (salvage, in a child process
// called shmkvd-salvage), gives the fresh segment the store's name, and
// reopens and claims *store on it. On failure *store is left as it was.
Status rebuild(std::unique_ptr<store::Store>* store, const Options& options, Rebuilt* rebuilt);

// retryable says whether a failed rebuild may succeed if tried again: its
// salvage was killed from outside (the OOM killer), took too long, or could
// not make a segment. Not so when the salvage found the map damaged
// (kCorrupt), which another try would find again.
bool retryable(const Status& failure);

}  // namespace shmkv::recovery
