// The store's test hooks, answered for DEBUG when shmkvd runs with
// --debug-commands, and for the unit tests: faults that a test cannot
// otherwise provoke on demand (a worker that sits on the store lock, or
// dies holding it, perhaps halfway through a change).
#include "store/store_layout.hpp"

#include <chrono>
#include <cstdlib>
#include <thread>

#include "store/store.hpp"
#include "store/store_walk.hpp"

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

void Store::debug_crash_mid_change(Torn torn) {
  (void)lock();
  Root& root = *segment_->root;
  if (torn == Torn::kTree) {
    // bstree_algorithms::rotate_left(p, p_right) begins with these two.
    const NodePtr p = NodeTraits::get_parent(root.map.end().pointed_node());
    const NodePtr p_right = NodeTraits::get_right(p);
    const NodePtr p_right_left = NodeTraits::get_left(p_right);
    NodeTraits::set_right(p, p_right_left);
    if (p_right_left) NodeTraits::set_parent(p_right_left, p);
  } else {
    IndexView index(root.index, segment_->memory.get_segment_manager());
    for (std::uint32_t i = 0; i < root.index.bucket_count; ++i) {
      const Ref head = root.index.buckets[i];
      if (head && index.node(head)->next) {
        index.node(head)->next = 0;
        break;
      }
    }
  }
  std::abort();
}

}  // namespace shmkv::store
