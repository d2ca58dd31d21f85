// The store's test hooks, answered for DEBUG when shmkvd runs with
// --debug-commands: faults that a test cannot otherwise provoke on demand
// (a worker that sits on the store lock, or dies holding it).
#include "store/store_layout.hpp"

#include <chrono>
#include <cstdlib>
#include <thread>

#include "store/store.hpp"

namespace shmkv::store {

Status Store::debug_hold_lock(std::uint32_t ms) {
  return locked([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return Status::ok();
  });
}

void Store::debug_crash_in_store() {
  (void)lock();  // and never unlocked: the process dies with it
  std::abort();
}

}  // namespace shmkv::store
