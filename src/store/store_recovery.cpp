#include "store/store_layout.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <stdio.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <new>
#include <vector>

#include "store/store.hpp"
#include "store/store_walk.hpp"

namespace shmkv::store {

namespace bi = boost::interprocess;

Status Store::check_lock(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  LockWatch saved = std::move(watch_);
  watch_.give_up = [deadline] { return std::chrono::steady_clock::now() >= deadline; };
  const Status s = locked([] { return Status::ok(); });
  watch_ = std::move(saved);
  if (s) return s;
  if (s.code() == Status::Code::kBusy)
    return Status::busy(fmt::format("store {}: the lock stayed held for {} ms", name_, timeout_ms));
  return Status::corrupt(fmt::format("store {}: its lock is unusable, a process died holding it", name_));
}

namespace {

// Entries collects the old map's nodes for a salvage: each node once, each
// checked to lie whole inside the segment before anything else of it is
// read, and at most two more than the map counts (a writer killed inside an
// insert, or inside a replace, leaves one more), so that no cycle of links
// makes a walk endless. Nodes seen are bits, one per place a node may begin
// (a 64th of the segment's size): a hash set of them made a salvage of a
// million keys a third slower.
class Entries {
 public:
  Entries(const Bounds& bounds, std::size_t counted)
      : bounds_(bounds), limit_(counted + 2), seen_(std::size_t(bounds.end - bounds.begin) / alignof(Node)) {
    list_.reserve(limit_);
  }

  // enter checks n and marks it seen; *fresh says whether it was new.
  Status enter(const Node* n, bool* fresh) {
    const std::size_t offset = static_cast<std::size_t>(reinterpret_cast<const char*>(n) - bounds_.begin);
    if (!bounds_.holds(n, sizeof(Node)) || offset % alignof(Node) != 0)
      return Status::corrupt("a map node lies outside the segment");
    auto seen = seen_[offset / alignof(Node)];
    *fresh = !seen;
    if (!*fresh) return Status::ok();
    seen = true;
    if (++count_ > limit_) return Status::corrupt("the map has more entries than it counts (a cycle?)");
    // tail() lies past the ExpiryHead when the node has one, so these
    // checks cover the head too.
    if (!bounds_.holds(n->tail(), n->key_size) || !bounds_.holds(n->tail() + n->key_size, n->value_size()))
      return Status::corrupt(fmt::format("entry {} runs past the segment's end", count_));
    return Status::ok();
  }

  void list(const Node* n) { list_.push_back(n); }
  std::size_t limit() const { return limit_; }

  // in_key_order sorts the entries by key, keeping one node per key, unless
  // they came in order already (a whole tree, and an index with nothing
  // more). Two nodes of one key are a replace that a death interrupted:
  // either value is the write in flight kept or lost.
  std::vector<const Node*>& in_key_order() {
    const auto less = [](const Node* a, const Node* b) { return a->key() < b->key(); };
    const auto same = [](const Node* a, const Node* b) { return a->key() == b->key(); };
    if (std::adjacent_find(list_.begin(), list_.end(), [&](auto* a, auto* b) { return !less(a, b); }) == list_.end())
      return list_;
    std::stable_sort(list_.begin(), list_.end(), less);
    list_.erase(std::unique(list_.begin(), list_.end(), same), list_.end());
    return list_;
  }

 private:
  Bounds bounds_;
  std::size_t limit_;
  std::size_t count_ = 0;  // nodes seen
  std::vector<bool> seen_;
  std::vector<const Node*> list_;
};

// A writer killed inside a change leaves at most one of the tree and the
// hash index half changed, as store.cpp changes them one after the other.
// Either can then miss entries: a rebalance stopped between two of its
// pointer writes can cut a subtree off the tree, and a growth step of the
// index can leave the rest of an old chain reachable from nowhere. So a
// salvage takes every node that either reaches; the whole one holds every
// entry, and the entry in flight may be in both, one or none.

// walk_tree lists the tree's nodes in key order, following child links only
// (from the root down, as a rebalance leaves them valid one by one).
Status walk_tree(NodePtr header, Entries* entries) {
  std::vector<NodePtr> path;
  NodePtr n = NodeTraits::get_parent(header);  // the root, or null
  for (;;) {
    for (; n; n = NodeTraits::get_left(n)) {
      bool fresh = false;
      if (Status s = entries->enter(Map::value_traits::to_value_ptr(n).get(), &fresh); !s) return s;
      if (!fresh) break;  // two parents during a rotation: the subtree is listed once
      path.push_back(n);
    }
    if (path.empty()) return Status::ok();
    n = path.back();
    path.pop_back();
    entries->list(Map::value_traits::to_value_ptr(n).get());
    n = NodeTraits::get_right(n);
  }
}

// walk_chains lists the nodes of buckets[from, count) not seen before.
// Every node a chain reaches, even halfway through a growth step, has a
// key that hashes to the chain's bucket: one that does not is damage, not
// an entry to copy.
Status walk_chains(const IndexView& index, const Bounds& bounds, const Ref* buckets, std::uint32_t from,
                   std::uint32_t count, Entries* entries) {
  if (!bounds.holds(buckets, std::size_t(count) * sizeof(Ref)))
    return Status::corrupt("the hash index lies outside the segment");
  for (std::uint32_t i = from; i < count; ++i) {
    std::size_t steps = 0;
    for (Ref r = buckets[i]; r; r = index.node(r)->next) {
      const Node* n = index.node(r);
      bool fresh = false;
      if (Status s = entries->enter(n, &fresh); !s) return s;
      if ((index.hash(n->key()) & (count - 1)) != i)
        return Status::corrupt(fmt::format("index chain {} holds a key of another bucket", i));
      if (fresh) entries->list(n);
      if (++steps > entries->limit()) return Status::corrupt(fmt::format("index chain {} loops", i));
    }
  }
  return Status::ok();
}

// gather_entries collects the old map's entries in key order, from the tree
// and the index (above), into *found. Damage is kCorrupt.
Status gather_entries(Root& old, SegmentManager* manager, const Bounds& bounds, std::vector<const Node*>* found) {
  const std::size_t counted = old.map.size();
  Entries entries(bounds, counted);
  if (Status s = walk_tree(old.map.end().pointed_node(), &entries); !s) return s;
  const IndexView index(old.index, manager);
  const Index& at = old.index;
  if (Status s = walk_chains(index, bounds, at.buckets.get(), 0, at.bucket_count, &entries); !s) return s;
  // Old buckets before `moved` are empty, and once every one has moved
  // they may be freed before old_count says so.
  if (at.old_count != 0 && at.moved < at.old_count)
    if (Status s = walk_chains(index, bounds, at.old_buckets.get(), at.moved, at.old_count, &entries); !s) return s;
  *found = std::move(entries.in_key_order());
  // A writer that died inside an insert or erase may have left the count
  // one off; more than that means entries were lost in both walks.
  if (found->size() + 1 < counted) return Status::corrupt(fmt::format("found {} entries of {}", found->size(), counted));
  return Status::ok();
}

// copy_entries copies the entries, in key order, into the empty store `root`
// of a fresh segment. No room is kFull.
Status copy_entries(const std::vector<const Node*>& entries, std::uint64_t old_expired_total, Root* root,
                    SegmentManager* manager, std::size_t* copied) {
  *copied = 0;
  IndexView index(root->index, manager);
  for (const Node* node : entries) {
    // The kind and the expiry time go with the entry; the expiry tree is
    // rebuilt from the nodes, as the index is, never walked.
    const std::int64_t expires_at = node->expires() ? node->expiry()->expires_at_ms : 0;
    Node* copy = node_make(manager, node->key(), node->value(), index.hash(node->key()), node->kind(), expires_at);
    if (!copy) return Status::full(fmt::format("no room for entry {}", *copied));
    // Ascending keys, one node each: push_back links at the end with no
    // search, where insert(end()) also walked the tree to check the hint
    // (a third of a salvage's time).
    root->map.push_back(*copy);
    index.link(copy, root->map.size());
    if (ExpiryHead* head = copy->expiry()) root->expiries.insert(*head);
    ++*copied;
  }
  root->key_count.store(root->map.size());
  root->expired_total = old_expired_total;
  return Status::ok();
}

// grown is the next size to try after a salvage into `size` bytes ran out of
// room: room for a full-sized index of `keys` keys and an eighth more, then
// double, in whole pages, up to the most a store can be.
std::size_t grown(std::size_t size, std::size_t old_size, std::size_t keys) {
  std::size_t index_bytes = std::size_t(kInitialBuckets) * sizeof(Ref);
  while (index_bytes / sizeof(Ref) * kMaxChain < keys) index_bytes *= 2;
  std::size_t next = size == old_size ? size + index_bytes + size / 8 : size * 2;
  constexpr std::size_t kPage = 4096;
  next = (next + kPage - 1) / kPage * kPage;
  return std::min(next, kMaximumSize);
}

}  // namespace

Status Store::salvage_into(const std::string& new_name, std::size_t* copied, std::size_t* bytes) {
  *copied = 0;
  Root& old = *segment_->root;
  const std::size_t old_size = segment_->memory.get_size();
  const Bounds bounds{static_cast<const char*>(segment_->memory.get_address()),
                      static_cast<const char*>(segment_->memory.get_address()) + old_size};
  // The tree's own count bounds the walks, so a cycle cannot make one endless.
  const std::size_t expected = old.map.size();
  if (expected > old_size / sizeof(Node))
    return Status::corrupt(fmt::format("the map counts {} entries, more than the segment can hold", expected));
  std::vector<const Node*> found;
  try {
    if (Status s = gather_entries(old, segment_->memory.get_segment_manager(), bounds, &found); !s) return s;
  } catch (const std::bad_alloc&) {
    // The lists take 8 bytes per key and a 64th of the segment: a salvage
    // short of memory may succeed when tried again, a damaged map never.
    return Status::io(fmt::format("no memory to list the {} entries of a {}-byte store", expected, old_size));
  }
  // The old size first. A store that filled up may not fit it again: its
  // index could not grow while it filled, and a fresh index is sized for
  // every key; then the segment grows until the entries fit.
  for (std::size_t size = old_size;; size = grown(size, old_size, expected)) {
    bi::shared_memory_object::remove(new_name.c_str());
    Status s;
    try {
      bi::permissions owner_only(0600);
      bi::managed_shared_memory fresh(bi::create_only, new_name.c_str(), size, nullptr, owner_only);
      Root* root = construct_root(fresh, found.size());
      s = copy_entries(found, old.expired_total, root, fresh.get_segment_manager(), copied);
      if (s) s = apply_access(new_name, access_);
    } catch (const std::bad_alloc&) {
      s = Status::full("no room for the root and index");
    } catch (const std::exception& e) {
      return Status::io(fmt::format("salvage into {}: {}", new_name, e.what()));
    }
    *bytes = size;
    if (s.code() != Status::Code::kFull) return s;
    if (size == kMaximumSize)
      return Status::full(fmt::format("salvage into {}: {} even in {} bytes", new_name, s.message(), size));
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

Status Store::publish(const std::string& from, const std::string& to) {
  const std::string src = "/dev/shm/" + from;
  const std::string dst = "/dev/shm/" + to;
  if (renameat2(AT_FDCWD, src.c_str(), AT_FDCWD, dst.c_str(), RENAME_NOREPLACE) == 0) return Status::ok();
  if (errno == EEXIST) return Status::busy(fmt::format("shared memory segment {} appeared meanwhile", to));
  return Status::io(errno_text("rename " + src + " to " + dst, errno));
}

void Store::retire() { segment_->root->retired.store(1, std::memory_order_release); }

}  // namespace shmkv::store
