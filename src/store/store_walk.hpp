// Checked reading of a segment that no lock protects, or of a copy of one:
// Bounds and the tree's node traits for the salvage (store_recovery.cpp),
// and TreeWalk, an in-order walk of the tree, for snapshots
// (store_snapshot.cpp). Internal to src/store/.
#pragma once

#include "store/store_layout.hpp"

namespace shmkv::store {

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

}  // namespace shmkv::store
