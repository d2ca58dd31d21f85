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

// rebuild copies the store into a fresh segment (salvage), gives the fresh
// segment the store's name, and reopens and claims *store on it. On failure
// *store is left as it was. *keys counts the entries copied.
Status rebuild(std::unique_ptr<store::Store>* store, int timeout_ms, std::size_t* keys);

}  // namespace shmkv::recovery
