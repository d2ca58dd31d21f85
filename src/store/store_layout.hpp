// The store's layout in its segment, shared by the store's own source files
// (store.cpp: the operations; store_index.cpp: the hash index;
// store_recovery.cpp: health and salvage; store_debug.cpp: the test hooks).
// Internal: nothing outside src/store/ includes it.
#pragma once

// The Makefile sets BOOST_INTERPROCESS_MANAGED_OPEN_OR_CREATE_INITIALIZE_TIMEOUT_SEC
// for every translation unit, so the order of includes does not matter.
#ifndef BOOST_INTERPROCESS_MANAGED_OPEN_OR_CREATE_INITIALIZE_TIMEOUT_SEC
#error "build with the Makefile's CPPFLAGS"
#endif

#include <boost/interprocess/managed_shared_memory.hpp>
#include <boost/interprocess/offset_ptr.hpp>
#include <boost/interprocess/sync/interprocess_mutex.hpp>
#include <boost/intrusive/set.hpp>
#include <boost/version.hpp>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <cstddef>
#include <cstring>
#include <limits>
#include <new>
#include <string_view>

#include "store/segment_format.hpp"
#include "store/store.hpp"

namespace shmkv::store {

namespace bi = boost::interprocess;
namespace bin = boost::intrusive;

using SegmentManager = bi::managed_shared_memory::segment_manager;

// The map is an intrusive red-black tree whose every entry is one allocation
// from the segment: the tree hook, the two sizes, the hash index's two fields
// (below), then the key's and the value's bytes. The compact hook keeps the
// colour in the parent pointer's low bit, so a 16-byte key with a 32-byte
// value takes 40 + 48 bytes plus the allocator's own 8 (its blocks come in
// 16-byte steps: 96 in all), where a map of two strings took three
// allocations. Offset pointers keep the tree valid at any mapping address.
using NodeHook = bin::set_base_hook<bin::void_pointer<bi::offset_ptr<void>>, bin::optimize_size<true>,
                                    bin::link_mode<bin::normal_link>>;

// ExpiryHead is what a key with an expiry carries in front of its key's
// bytes: its hook in the expiry tree, which orders such keys by the time
// they expire, so that the sweep finds the expired ones first and visits
// nothing else. Only keys with an expiry pay for it (32 bytes): a key
// without one keeps the 96-byte block above (shmkv-protocol(7), Expiry).
struct ExpiryTag;
using ExpiryHook = bin::set_base_hook<bin::tag<ExpiryTag>, bin::void_pointer<bi::offset_ptr<void>>,
                                      bin::optimize_size<true>, bin::link_mode<bin::normal_link>>;

struct ExpiryHead : ExpiryHook {
  explicit ExpiryHead(std::int64_t at) : expires_at_ms(at) {}
  std::int64_t expires_at_ms;  // wall-clock (Unix) milliseconds: survives a restart
};

struct Node : NodeHook {
  // value_bits holds the value's size and, in its two high bits, the
  // value's kind (JSON text or raw bytes, shmkv-protocol(7), Value kinds) and
  // whether an ExpiryHead follows the node: flags in a word every node
  // already has, so neither costs a key a byte. Values are thus below 1 GiB.
  static constexpr std::uint32_t kBytesBit = std::uint32_t(1) << 31;
  static constexpr std::uint32_t kExpiryBit = std::uint32_t(1) << 30;
  static constexpr std::uint32_t kSizeMask = kExpiryBit - 1;

  Node(std::uint32_t k, std::uint32_t v_bits, std::uint32_t h) : key_size(k), value_bits(v_bits), hash(h) {}

  std::uint32_t key_size;
  std::uint32_t value_bits;  // size | kBytesBit | kExpiryBit
  std::uint32_t hash;      // the key's hash, kept so the index grows without rehashing keys
  std::uint32_t next = 0;  // the next node in this node's index bucket (a Ref)
  // An ExpiryHead when kExpiryBit is set, then key_size bytes of key, then
  // value_size() bytes of value, follow the node.

  bool expires() const { return value_bits & kExpiryBit; }
  Kind kind() const { return (value_bits & kBytesBit) ? Kind::kBytes : Kind::kJson; }
  std::uint32_t value_size() const { return value_bits & kSizeMask; }
  ExpiryHead* expiry() { return expires() ? reinterpret_cast<ExpiryHead*>(this + 1) : nullptr; }
  const ExpiryHead* expiry() const { return expires() ? reinterpret_cast<const ExpiryHead*>(this + 1) : nullptr; }
  // expired says whether the node's expiry time has come at now_ms.
  bool expired(std::int64_t now_ms) const { return expires() && expiry()->expires_at_ms <= now_ms; }

  char* tail() { return reinterpret_cast<char*>(this + 1) + (expires() ? sizeof(ExpiryHead) : 0); }
  const char* tail() const {
    return reinterpret_cast<const char*>(this + 1) + (expires() ? sizeof(ExpiryHead) : 0);
  }
  std::string_view key() const { return {tail(), key_size}; }
  std::string_view value() const { return {tail() + key_size, value_size()}; }

  // of_expiry is the node an ExpiryHead belongs to: it sits right after it.
  static Node* of_expiry(ExpiryHead* head) { return reinterpret_cast<Node*>(head) - 1; }
};
static_assert(sizeof(Node) % alignof(ExpiryHead) == 0 && alignof(Node) >= alignof(ExpiryHead));

// The expiry tree orders heads by time (equal times allowed).
struct ExpiryLess {
  bool operator()(const ExpiryHead& a, const ExpiryHead& b) const { return a.expires_at_ms < b.expires_at_ms; }
};
using ExpiryMap = bin::multiset<ExpiryHead, bin::base_hook<ExpiryHook>, bin::compare<ExpiryLess>,
                                bin::constant_time_size<true>, bin::size_type<std::uint64_t>>;

// The tree orders nodes by their keys' bytes, as unsigned char, and then by
// length (std::string_view's order: char_traits<char> compares unsigned), and
// looks up a std::string_view without building anything.
struct NodeKey {
  using type = std::string_view;
  type operator()(const Node& n) const { return n.key(); }
};
struct KeyLess {
  bool operator()(std::string_view a, std::string_view b) const { return a < b; }
};

// constant_time_size: size() is a stored count, for counts() and key_count.
using Map = bin::set<Node, bin::key_of_value<NodeKey>, bin::compare<KeyLess>, bin::constant_time_size<true>,
                     bin::size_type<std::uint64_t>>;

// node_make allocates and fills an unlinked node, or returns nullptr when the
// segment has no room (or the key or value could never fit a node). A node
// made with expires_at_ms > 0 carries an ExpiryHead, not yet in the expiry
// tree: link it with the node.
inline Node* node_make(SegmentManager* manager, std::string_view key, std::string_view value,
                       std::uint32_t hash, Kind kind = Kind::kJson, std::int64_t expires_at_ms = 0) {
  if (key.size() > std::numeric_limits<std::uint32_t>::max() || value.size() > Node::kSizeMask) return nullptr;
  const std::size_t head = expires_at_ms > 0 ? sizeof(ExpiryHead) : 0;
  void* memory = manager->allocate(sizeof(Node) + head + key.size() + value.size(), std::nothrow);
  if (!memory) return nullptr;
  std::uint32_t bits = static_cast<std::uint32_t>(value.size());
  if (kind == Kind::kBytes) bits |= Node::kBytesBit;
  if (head) bits |= Node::kExpiryBit;
  Node* node = new (memory) Node(static_cast<std::uint32_t>(key.size()), bits, hash);
  if (head) new (node + 1) ExpiryHead(expires_at_ms);
  if (!key.empty()) std::memcpy(node->tail(), key.data(), key.size());
  if (!value.empty()) std::memcpy(node->tail() + key.size(), value.data(), value.size());
  return node;
}

// node_free returns an unlinked node's memory to the segment.
inline void node_free(SegmentManager* manager, Node* node) {
  if (ExpiryHead* head = node->expiry()) head->~ExpiryHead();
  node->~Node();
  manager->deallocate(node);
}

// The hash index beside the tree. GET, PUT and DELETE find a key through it:
// a bucket and a node or two, where the tree's search misses the cache some
// twenty times at a million keys. The tree keeps the keys' order for KEYS.
// Both hold every entry, which lets a salvage recover a store whose writer
// died with one of them half changed (store_recovery.cpp).
//
// Buckets and chain links are Refs, 32-bit offsets from the segment
// manager in units of a node's alignment, which address 32 GiB (hence
// kMaximumSize): at a million keys an index of Refs costs 2 to 4 bytes per
// key, one of offset_ptrs twice that. Chains average at most two nodes, as
// memcached allows one and a half: more buckets would cost more bytes per
// key than the extra node visited costs time.
using Ref = std::uint32_t;
static_assert(kRefUnit >= 8 && (std::uint64_t(1) << 32) * kRefUnit >= kMaximumSize);
constexpr std::uint32_t kInitialBuckets = 1024;
constexpr std::uint32_t kMaxChain = 2;  // the index doubles beyond this many keys per bucket

struct Index {
  bi::offset_ptr<Ref> buckets;  // bucket_count Refs, 0 for an empty bucket
  std::uint32_t bucket_count = 0;  // a power of two
  // While the index grows, the old buckets' nodes move to the new buckets a
  // few buckets per change, rather than all at once under the lock (some
  // tens of milliseconds per million keys); a search looks in both.
  bi::offset_ptr<Ref> old_buckets;
  std::uint32_t old_count = 0;  // 0 when no move is under way
  std::uint32_t moved = 0;      // old buckets emptied so far
  std::uint64_t seed = 0;  // chosen at random per store, so that colliding keys cannot be precomputed
};

// IndexView is the index as one process maps it (store_index.cpp). Callers
// hold the store lock for every member but hash.
class IndexView {
 public:
  IndexView(Index& index, SegmentManager* manager)
      : index_(index), base_(reinterpret_cast<char*>(manager)), manager_(manager) {}

  // init gives an empty index room for about `keys` keys and a seed; false
  // when the segment has no room.
  bool init(std::size_t keys, std::uint64_t seed);

  std::uint32_t hash(std::string_view key) const;

  // find returns the node holding key, or nullptr. When it finds one,
  // *link (if given) is the Ref that points at it, for unlink and replace.
  Node* find(std::string_view key, std::uint32_t hash, Ref** link) const;

  // prefetch asks for the buckets of count hashes, then for each bucket's
  // first node, so that a batch's cache misses are waited for together, not
  // one after another, by the finds that follow.
  void prefetch(const std::uint32_t* hashes, std::size_t count) const;

  // find_many does find for count keys (at most kBatch) after a prefetch.
  static constexpr std::size_t kBatch = 32;
  void find_many(const std::string_view* keys, const std::uint32_t* hashes, std::size_t count,
                 const Node** found) const;

  // link adds an unlinked node; then the index starts to grow when `keys`
  // keys make its chains too long, unless the segment has no room (the
  // chains then stay long, and lookups slower, until there is). link and
  // unlink each move a few buckets of a growth under way.
  void link(Node* node, std::size_t keys);
  void unlink(Ref* link, Node* node) {
    *link = node->next;
    move_some();
  }
  void replace(Ref* link, Node* old_node, Node* new_node) {
    new_node->next = old_node->next;
    *link = ref(new_node);
  }

  // scan_step visits every node of the buckets that cursor names, as
  // Redis's SCAN walks its hash table, and returns the next cursor (0 after
  // the last). The cursor counts bucket numbers with their bits reversed, so
  // a doubling of the buckets between two steps, or under way, neither
  // skips a node present throughout nor makes the walk start over: the
  // step covers the smaller table's bucket and all the larger one's that it
  // splits into.
  template <typename Visit>
  std::uint32_t scan_step(std::uint32_t cursor, const Visit& visit) const;

  // node is the node a non-zero Ref names. A salvage checks that it lies
  // inside the segment before it reads it.
  Node* node(Ref r) const { return reinterpret_cast<Node*>(base_ + std::size_t(r) * kRefUnit); }

 private:
  Ref ref(const Node* node) const { return static_cast<Ref>((reinterpret_cast<const char*>(node) - base_) / kRefUnit); }
  Ref* bucket(std::uint32_t hash) const { return index_.buckets.get() + (hash & (index_.bucket_count - 1)); }
  Ref* old_bucket(std::uint32_t hash) const { return index_.old_buckets.get() + (hash & (index_.old_count - 1)); }
  Node* search(Ref* at, std::string_view key, std::uint32_t hash, Ref** link) const;
  void start_growth();
  void move_some();

  Index& index_;
  char* base_;
  SegmentManager* manager_;
};

template <typename Visit>
std::uint32_t IndexView::scan_step(std::uint32_t v, const Visit& visit) const {
  const auto visit_chain = [&](Ref r) {
    for (; r; r = node(r)->next) visit(*node(r));
  };
  const auto reverse = [](std::uint32_t x) {
    x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
    x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
    x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
    x = ((x >> 8) & 0x00ff00ffu) | ((x & 0x00ff00ffu) << 8);
    return (x >> 16) | (x << 16);
  };
  // m0 masks the smaller table: the only one, or the old one of a growth.
  const std::uint32_t m0 = (index_.old_count ? index_.old_count : index_.bucket_count) - 1;
  if (index_.old_count == 0) {
    visit_chain(index_.buckets.get()[v & m0]);
  } else {
    const std::uint32_t m1 = index_.bucket_count - 1;
    visit_chain(index_.old_buckets.get()[v & m0]);
    do {  // the larger table's buckets that v & m0 splits into
      visit_chain(index_.buckets.get()[v & m1]);
      v = (((v | m0) + 1) & ~m0) | (v & m0);
    } while (v & (m0 ^ m1));
  }
  // The next bucket of the smaller table, counting with the bits reversed.
  v |= ~m0;
  return reverse(reverse(v) + 1);
}

constexpr char kRootName[] = "shmkv.root";

struct Root {
  std::uint64_t magic = kMagic;
  std::uint32_t format = kFormat;
  std::uint32_t boost_version = BOOST_VERSION;
  // The words a local reader reads come first, at the offsets that
  // segment_format.hpp gives (checked below).
  //
  // changes is a seqlock's sequence: odd while a writer changes the map,
  // the index, the expiry tree or a linked node (class Change), even
  // otherwise. Readers that take no lock copy what they need and keep it
  // only when the sequence was the same even number before and after.
  std::atomic<std::uint64_t> changes{0};
  // retired is set (to 1) in a segment that a salvage has replaced by a
  // fresh one under the same name (Store::retire): readers that still map
  // this one then open the name again.
  std::atomic<std::uint32_t> retired{0};
  // Where the root and the segment manager lie, in bytes from the segment's
  // start: a reader finds the root by scanning the segment's first bytes
  // for a root that names its own place, and the Refs' base from it.
  std::uint64_t self_offset = 0;
  std::uint64_t manager_offset = 0;
  // map.size(), kept under mutex, readable without it (key_count).
  std::atomic<std::uint64_t> key_count{0};
  Index index;
  // Guards map, index, expiries and the nodes linked in them. Taken only
  // through Store::locked (store.cpp: lock, unlock), never directly.
  bi::interprocess_mutex mutex;
  Map map;
  ExpiryMap expiries;  // the nodes that have an expiry, soonest first
  // Expired keys removed so far (STATS expired_keys_total); under mutex.
  std::uint64_t expired_total = 0;
  pid_t server_pid = 0;  // the shmkvd that claimed the segment last
};

// The reader's view of the layout (segment_format.hpp) is this layout. Root
// and Node are not standard-layout (their Boost members have base classes),
// which makes offsetof conditionally supported; g++ and clang support it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
static_assert(offsetof(Root, magic) == root_offset::kMagic && offsetof(Root, format) == root_offset::kFormat &&
              offsetof(Root, boost_version) == root_offset::kBoostVersion);
static_assert(offsetof(Root, changes) == root_offset::kChanges && offsetof(Root, retired) == root_offset::kRetired &&
              offsetof(Root, self_offset) == root_offset::kSelf &&
              offsetof(Root, manager_offset) == root_offset::kManager &&
              offsetof(Root, key_count) == root_offset::kKeyCount && offsetof(Root, index) == root_offset::kIndex);
static_assert(offsetof(Index, buckets) == index_offset::kBuckets &&
              offsetof(Index, bucket_count) == index_offset::kBucketCount &&
              offsetof(Index, old_buckets) == index_offset::kOldBuckets &&
              offsetof(Index, old_count) == index_offset::kOldCount && offsetof(Index, moved) == index_offset::kMoved &&
              offsetof(Index, seed) == index_offset::kSeed);
static_assert(offsetof(Node, key_size) == node_offset::kKeySize &&
              offsetof(Node, value_bits) == node_offset::kValueBits && offsetof(Node, hash) == node_offset::kHash &&
              offsetof(Node, next) == node_offset::kNext && sizeof(Node) == node_offset::kSize);
static_assert(offsetof(ExpiryHead, expires_at_ms) == node_offset::kExpiryAt &&
              sizeof(ExpiryHead) == node_offset::kExpirySize);
#pragma GCC diagnostic pop
static_assert(Node::kBytesBit == kNodeBytesBit && Node::kExpiryBit == kNodeExpiryBit && kRefUnit == alignof(Node));
static_assert(sizeof(bi::offset_ptr<Ref>) == 8 && std::atomic<std::uint64_t>::is_always_lock_free &&
              sizeof(std::atomic<std::uint64_t>) == 8 && sizeof(std::atomic<std::uint32_t>) == 4);

// Change brackets one change to what readers read (shmkv-protocol(7),
// Local readers): the sequence turns odd before the change's first write
// and even after its last. Only the change is bracketed, not the whole hold
// of the lock, so that a writer sitting on the lock does not stop readers.
// Changes never nest. REQUIRES: store lock held.
//
// A new node is allocated and filled before the change begins, and an
// unlinked one may be freed after it ends: the allocator writes only memory
// that nothing linked reaches, which a reader never reads in a stable state.
// A fresh segment that a salvage fills is named only when it is complete,
// so its writes need no bracket.
//
// The orders are the seqlock's (Boehm, "Can seqlocks get along with
// programming language memory models?", 2012): the odd number is stored
// relaxed and then a release fence orders it before every write of the
// change, so that a reader that sees any of those writes (and then issues
// its acquire fence) sees the odd number, or a later one, when it reads the
// sequence again; the even number is stored with release, so that a reader
// that reads it with acquire sees every write of the change. Both cost no
// instruction on x86 beyond the two stores. The change's own writes are
// plain (Boost's tree, the index): a reader may see them half done, which
// is why it checks every word it reads against the segment's bounds.
class Change {
 public:
  explicit Change(Root& root) : root_(root) {
    root_.changes.store(root_.changes.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
  }
  ~Change() { root_.changes.store(root_.changes.load(std::memory_order_relaxed) + 1, std::memory_order_release); }
  Change(const Change&) = delete;
  Change& operator=(const Change&) = delete;

 private:
  Root& root_;
};

// construct_root makes a new segment's root, its index sized for `keys`
// keys (store.cpp). It throws bad_alloc when the segment is too small.
Root* construct_root(bi::managed_shared_memory& memory, std::size_t keys);

class Segment {
 public:
  bi::managed_shared_memory memory;
  Root* root = nullptr;
};

template <typename Fn>
Status Store::locked(Fn&& fn) {
  if (Status s = lock(); !s) return s;
  struct Unlock {
    Store* store;
    ~Unlock() { store->unlock(); }
  } unlock_at_exit{this};
  try {
    return fn();
  } catch (const bi::interprocess_exception&) {
    // Only the allocator's own lock throws in here, and only when a process
    // died holding it, which it can do only inside the store lock: a
    // recovery follows.
    return Status::busy(kRecovering);
  }
}

}  // namespace shmkv::store
