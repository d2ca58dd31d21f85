#include "store/store_layout.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>

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

// copy_map copies the old map, walked with TreeWalk's checks (store_walk.hpp), into the empty
// store `root` of a fresh segment. No room is kFull; damage is kCorrupt.
Status copy_map(const Map& old, std::uint64_t old_expired_total, const Bounds& bounds, std::size_t expected,
                Root* root, SegmentManager* manager, std::size_t* copied) {
  *copied = 0;
  IndexView index(root->index, manager);
  const NodePtr header = old.end().pointed_node();
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
    if (!copy) return Status::full(fmt::format("no room for entry {}", *copied));
    root->map.insert(root->map.end(), *copy);  // ascending keys: the end is the right place
    index.link(copy, root->map.size());
    if (ExpiryHead* head = copy->expiry()) root->expiries.insert(*head);
    previous = key;
    first = false;
    ++*copied;
  }
  root->key_count.store(root->map.size());
  root->expired_total = old_expired_total;
  // A writer that died inside an insert or erase may have left the count
  // one off; more than that means entries were lost in the walk.
  if (*copied + 1 < expected) return Status::corrupt(fmt::format("walked {} entries of {}", *copied, expected));
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
  const Root& old = *segment_->root;
  const std::size_t old_size = segment_->memory.get_size();
  const Bounds bounds{static_cast<const char*>(segment_->memory.get_address()),
                      static_cast<const char*>(segment_->memory.get_address()) + old_size};
  // The tree's own count bounds the walk, so a cycle cannot make it endless:
  // an in-order walk crosses each link at most twice, and reads each node at
  // most three times per crossing.
  const std::size_t expected = old.map.size();
  if (expected > old_size / sizeof(Node))
    return Status::corrupt(fmt::format("the map counts {} entries, more than the segment can hold", expected));
  // The old size first. A store that filled up may not fit it again: its
  // index could not grow while it filled, and a fresh index is sized for
  // every key; then the segment grows until the entries fit.
  for (std::size_t size = old_size;; size = grown(size, old_size, expected)) {
    bi::shared_memory_object::remove(new_name.c_str());
    Status s;
    try {
      bi::permissions owner_only(0600);
      bi::managed_shared_memory fresh(bi::create_only, new_name.c_str(), size, nullptr, owner_only);
      Root* root = construct_root(fresh, expected);
      s = copy_map(old.map, old.expired_total, bounds, expected, root, fresh.get_segment_manager(), copied);
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

void Store::retire() { segment_->root->retired.store(1, std::memory_order_release); }

}  // namespace shmkv::store
