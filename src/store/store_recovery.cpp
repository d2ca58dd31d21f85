#include "store/store_layout.hpp"

#include <boost/date_time/posix_time/posix_time_types.hpp>
#include <fmt/format.h>

#include <cstdio>

#include "store/store.hpp"

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

namespace {

// Bounds is the address range of a mapped segment.
struct Bounds {
  const char* begin;
  const char* end;
  bool holds(const void* p, std::size_t size) const {
    const char* c = static_cast<const char*>(p);
    return c >= begin && c <= end && size <= static_cast<std::size_t>(end - c);
  }
};

using NodeTraits = Map::node_traits;
using NodePtr = NodeTraits::node_ptr;

// TreeWalk visits a tree that no lock protects in key order, checking every
// link before it follows it: each node it reaches lies inside the segment,
// and it takes at most `budget` steps, so neither a wild pointer nor a cycle
// sends it outside the segment or round forever. It follows the steps of
// boost::intrusive's bstree_algorithms::next_node.
class TreeWalk {
 public:
  TreeWalk(const Bounds& bounds, NodePtr header, std::size_t budget)
      : bounds_(bounds), header_(header), budget_(budget) {}

  // first and next return the node reached, the header at the end, or null
  // when a link is broken or the budget spent.
  NodePtr first() { return step(header_) ? NodeTraits::get_left(header_) : NodePtr(); }

  NodePtr next(NodePtr n) {
    if (!step(n)) return {};
    if (NodePtr right = NodeTraits::get_right(n)) {
      n = right;
      for (;;) {
        if (!step(n)) return {};
        NodePtr left = NodeTraits::get_left(n);
        if (!left) return n;
        n = left;
      }
    }
    NodePtr parent = NodeTraits::get_parent(n);
    for (;;) {
      if (!step(parent)) return {};
      if (n != NodeTraits::get_right(parent)) break;
      n = parent;
      parent = NodeTraits::get_parent(parent);
    }
    return NodeTraits::get_right(n) != parent ? parent : n;
  }

 private:
  // step checks one link before the walk reads the node it points to.
  bool step(NodePtr n) {
    if (budget_ == 0 || !n || !bounds_.holds(n.get(), sizeof(*n))) return false;
    --budget_;
    return true;
  }

  Bounds bounds_;
  NodePtr header_;
  std::size_t budget_;
};

}  // namespace

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
      // tail() lies past the ExpiryHead when the node has one, so these
      // checks cover the head too.
      if (!bounds.holds(node->tail(), node->key_size) ||
          !bounds.holds(node->tail() + node->key_size, node->value_size()))
        return Status::corrupt(fmt::format("entry {} runs past the segment's end", *copied));
      const std::string_view key = node->key();
      if (!first && !(previous < key)) return Status::corrupt(fmt::format("keys out of order at entry {}", *copied));
      // The kind and the expiry time go with the entry; the expiry tree is
      // rebuilt from the nodes, as the index is, never walked.
      const std::int64_t expires_at = node->expires() ? node->expiry()->expires_at_ms : 0;
      Node* copy = node_make(manager, key, node->value(), index.hash(key), node->kind(), expires_at);
      if (!copy) return Status::corrupt(fmt::format("salvage into {}: no room for entry {}", new_name, *copied));
      root->map.insert(root->map.end(), *copy);  // ascending keys: the end is the right place
      index.link(copy, root->map.size());
      if (ExpiryHead* head = copy->expiry()) root->expiries.insert(*head);
      previous = key;
      first = false;
      ++*copied;
    }
    root->key_count.store(root->map.size());
    root->expired_total = old.expired_total;
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
