#include "store_layout.hpp"  // first: it sets a Boost.Interprocess parameter

#include <boost/container_hash/hash.hpp>

#include <bit>
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

std::uint32_t IndexView::hash(std::string_view key) const {
  std::size_t h = static_cast<std::size_t>(index_.seed);
  boost::hash_range(h, key.begin(), key.end());
  return static_cast<std::uint32_t>(h);
}

Node* IndexView::find(std::string_view key, std::uint32_t hash, Ref** link) const {
  Ref* at = bucket(hash);
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

void IndexView::find_many(const std::string_view* keys, const std::uint32_t* hashes, std::size_t count,
                          const Node** found) const {
  for (std::size_t i = 0; i < count; ++i) __builtin_prefetch(bucket(hashes[i]));
  for (std::size_t i = 0; i < count; ++i) {
    const Ref first = *bucket(hashes[i]);
    if (first) __builtin_prefetch(node(first));
  }
  for (std::size_t i = 0; i < count; ++i) found[i] = find(keys[i], hashes[i], nullptr);
}

void IndexView::link(Node* n, std::size_t keys) {
  Ref* head = bucket(n->hash);
  n->next = *head;
  *head = ref(n);
  if (keys > std::size_t(index_.bucket_count) * kMaxChain && index_.bucket_count < (std::uint32_t(1) << 31)) grow();
}

// grow doubles the buckets and moves every node to its new chain, in one
// step under the lock: at a million keys that is some tens of milliseconds,
// once per doubling.
void IndexView::grow() {
  const std::uint32_t old_count = index_.bucket_count;
  const std::uint32_t new_count = old_count * 2;
  void* memory = manager_->allocate(std::size_t(new_count) * sizeof(Ref), std::nothrow);
  if (!memory) return;
  Ref* fresh = static_cast<Ref*>(memory);
  std::memset(fresh, 0, std::size_t(new_count) * sizeof(Ref));
  Ref* old = index_.buckets.get();
  for (std::uint32_t b = 0; b < old_count; ++b) {
    for (Ref r = old[b]; r;) {
      Node* n = node(r);
      const Ref next = n->next;
      Ref* head = fresh + (n->hash & (new_count - 1));
      n->next = *head;
      *head = r;
      r = next;
    }
  }
  index_.buckets = fresh;
  index_.bucket_count = new_count;
  manager_->deallocate(old);
}

}  // namespace shmkv::store
