#include "store/store_layout.hpp"

#include <boost/date_time/posix_time/posix_time_types.hpp>
#include <fmt/format.h>

#include <cstdio>

#include "store/store.hpp"
#include "store/store_walk.hpp"

namespace shmkv::store {

namespace bi = boost::interprocess;

Status Store::check_lock(int timeout_ms) {
  Root& root = *segment_->root;
  try {
    const auto deadline = boost::posix_time::microsec_clock::universal_time() +
                          boost::posix_time::milliseconds(timeout_ms);
    if (!root.mutex.timed_lock(deadline))
      return Status::busy(fmt::format("store {}: the lock stayed held for {} ms", name_, timeout_ms));
    root.mutex.unlock();
    return Status::ok();
  } catch (const bi::interprocess_exception& e) {
    return Status::corrupt(fmt::format("store {}: its lock is unusable, a process died holding it ({})", name_,
                                       e.what()));
  }
}

Status Store::salvage_into(const std::string& new_name, std::size_t* copied) {
  *copied = 0;
  const Root& old = *segment_->root;
  const Bounds bounds{static_cast<const char*>(segment_->memory.get_address()),
                      static_cast<const char*>(segment_->memory.get_address()) + segment_->memory.get_size()};
  // The tree's own count bounds the walk, so a cycle cannot make it endless:
  // an in-order walk crosses each link at most twice, and reads each node at
  // most three times per crossing.
  const std::size_t expected = old.map.size();
  if (expected > segment_->memory.get_size() / sizeof(Node))
    return Status::corrupt(fmt::format("the map counts {} entries, more than the segment can hold", expected));
  try {
    bi::shared_memory_object::remove(new_name.c_str());
    bi::permissions owner_only(0600);
    bi::managed_shared_memory fresh(bi::create_only, new_name.c_str(), segment_->memory.get_size(), nullptr,
                                    owner_only);
    Root* root = construct_root(fresh, expected);
    SegmentManager* manager = fresh.get_segment_manager();
    IndexView index(root->index, manager);
    const NodePtr header = old.map.end().pointed_node();
    TreeWalk walk(bounds, header, 8 * (expected + 2));
    std::string_view previous;
    bool first = true;
    for (NodePtr n = walk.first();; n = walk.next(n)) {
      if (!n) return Status::corrupt(fmt::format("a map link after entry {} is broken", *copied));
      if (n == header) break;
      if (*copied > expected) return Status::corrupt("the map has more entries than it counts (a cycle?)");
      const Node* node = Map::value_traits::to_value_ptr(n).get();
      if (!bounds.holds(node, sizeof(Node))) return Status::corrupt("a map node lies outside the segment");
      if (!bounds.holds(node->tail(), node->key_size) ||
          !bounds.holds(node->tail() + node->key_size, node->value_size))
        return Status::corrupt(fmt::format("entry {} runs past the segment's end", *copied));
      const std::string_view key = node->key();
      if (!first && !(previous < key)) return Status::corrupt(fmt::format("keys out of order at entry {}", *copied));
      Node* copy = node_make(manager, key, node->value(), index.hash(key));
      if (!copy) return Status::corrupt(fmt::format("salvage into {}: no room for entry {}", new_name, *copied));
      root->map.insert(root->map.end(), *copy);  // ascending keys: the end is the right place
      index.link(copy, root->map.size());
      previous = key;
      first = false;
      ++*copied;
    }
    root->key_count.store(root->map.size());
    // A writer that died inside an insert or erase may have left the count
    // one off; more than that means entries were lost in the walk.
    if (*copied + 1 < expected)
      return Status::corrupt(fmt::format("walked {} entries of {}", *copied, expected));
    return Status::ok();
  } catch (const std::exception& e) {
    return Status::corrupt(fmt::format("salvage into {}: {}", new_name, e.what()));
  }
}

Status Store::replace(const std::string& from, const std::string& to) {
  // POSIX shared memory objects are files under /dev/shm on Linux; rename
  // swaps them atomically, and processes that map the old one keep it.
  const std::string src = "/dev/shm/" + from;
  const std::string dst = "/dev/shm/" + to;
  if (std::rename(src.c_str(), dst.c_str()) < 0) return Status::io(errno_text("rename " + src + " to " + dst, errno));
  return Status::ok();
}

}  // namespace shmkv::store
