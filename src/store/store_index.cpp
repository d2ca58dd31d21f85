#include "store/store_layout.hpp"

#include <algorithm>
#include <atomic>
#include <new>

namespace shmkv::store {

bool IndexView::init(std::size_t keys, std::uint64_t seed) {
  std::size_t count = kInitialBuckets;
  while (count * kMaxChain < keys && count < (std::size_t(1) << 31)) count *= 2;
  void* memory = manager_->allocate(count * sizeof(Ref), std::nothrow);
  if (!memory) return false;
  std::memset(memory, 0, count * sizeof(Ref));
  index_.buckets = static_cast<Ref*>(memory);
  index_.bucket_count = static_cast<std::uint32_t>(count);
  index_.seed = seed;
  return true;
}

std::uint32_t IndexView::hash(std::string_view key) const { return index_hash(index_.seed, key); }

Node* IndexView::find(std::string_view key, std::uint32_t hash, Ref** link) const {
  if (Node* n = search(bucket(hash), key, hash, link)) return n;
  return index_.old_count ? search(old_bucket(hash), key, hash, link) : nullptr;
}

Node* IndexView::search(Ref* at, std::string_view key, std::uint32_t hash, Ref** link) const {
  while (*at) {
    Node* n = node(*at);
    if (n->hash == hash && n->key() == key) {
      if (link) *link = at;
      return n;
    }
    at = &n->next;
  }
  return nullptr;
}

void IndexView::prefetch(const std::uint32_t* hashes, std::size_t count) const {
  for (std::size_t i = 0; i < count; ++i) __builtin_prefetch(bucket(hashes[i]));
  for (std::size_t i = 0; i < count; ++i) {
    const Ref first = *bucket(hashes[i]);
    if (first) __builtin_prefetch(node(first));
  }
}

void IndexView::find_many(const std::string_view* keys, const std::uint32_t* hashes, std::size_t count,
                          const Node** found) const {
  prefetch(hashes, count);
  for (std::size_t i = 0; i < count; ++i) found[i] = find(keys[i], hashes[i], nullptr);
}

void IndexView::link(Node* n, std::size_t keys) {
  Ref* head = bucket(n->hash);
  n->next = *head;
  *head = ref(n);
  move_some();
  if (index_.old_count == 0 && keys > std::size_t(index_.bucket_count) * kMaxChain &&
      index_.bucket_count < (std::uint32_t(1) << 31))
    start_growth();
}

// start_growth doubles the buckets; the nodes move over in move_some.
//
// A salvage reads the index of a writer killed at any instruction
// (store_recovery.cpp), so the fields change in an order whose every
// prefix it can read: the signal fences keep the compiler from reordering
// these stores, as it did (buckets before old_buckets). A bucket count is
// never larger than its array.
void IndexView::start_growth() {
  const std::uint32_t count = index_.bucket_count * 2;
  void* memory = manager_->allocate(std::size_t(count) * sizeof(Ref), std::nothrow);
  if (!memory) return;
  std::memset(memory, 0, std::size_t(count) * sizeof(Ref));
  index_.old_buckets = index_.buckets;
  index_.moved = 0;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  index_.old_count = index_.bucket_count;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  index_.buckets = static_cast<Ref*>(memory);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  index_.bucket_count = count;
}

// move_some moves the nodes of a few old buckets to the new ones: with two
// keys per bucket at the start and a growth every doubling of the keys, the
// move is over long before the next one is due.
void IndexView::move_some() {
  constexpr std::uint32_t kBucketsPerStep = 8;
  if (index_.old_count == 0) return;
  Ref* old = index_.old_buckets.get();
  const std::uint32_t end = std::min(index_.old_count, index_.moved + kBucketsPerStep);
  for (; index_.moved < end; ++index_.moved) {
    for (Ref r = old[index_.moved]; r;) {
      Node* n = node(r);
      const Ref next = n->next;
      Ref* head = bucket(n->hash);
      n->next = *head;
      *head = r;
      r = next;
    }
    old[index_.moved] = 0;
  }
  if (index_.moved == index_.old_count) {
    // old_count first, and for the compiler too: a salvage never reads an
    // old array that the allocator may have written over.
    index_.old_count = 0;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    manager_->deallocate(old);
    index_.old_buckets = nullptr;
    index_.moved = 0;
  }
}

}  // namespace shmkv::store
