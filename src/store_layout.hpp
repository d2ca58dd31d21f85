// The store's layout in its segment, shared by the store's own source files
// (store.cpp: the operations; store_recovery.cpp: health, salvage and the
// test hooks). Internal: nothing outside src/store*.cpp includes it.
#pragma once

// A restarted daemon must not hang five minutes on a segment whose creator
// died while initialising it: give up on it after a few seconds instead.
#define BOOST_INTERPROCESS_MANAGED_OPEN_OR_CREATE_INITIALIZE_TIMEOUT_SEC 2u

#include <boost/interprocess/managed_shared_memory.hpp>
#include <boost/interprocess/offset_ptr.hpp>
#include <boost/interprocess/sync/interprocess_mutex.hpp>
#include <boost/interprocess/sync/scoped_lock.hpp>
#include <boost/intrusive/set.hpp>
#include <boost/version.hpp>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <string_view>

namespace shmkv::store {

namespace bi = boost::interprocess;
namespace bin = boost::intrusive;

using SegmentManager = bi::managed_shared_memory::segment_manager;

// The map is an intrusive red-black tree whose every entry is one allocation
// from the segment: the tree hook, the two sizes, then the key's and the
// value's bytes. The compact hook keeps the colour in the parent pointer's
// low bit, so a 16-byte key with a 32-byte value takes 32 + 48 bytes plus the
// allocator's own header, where a map of two strings took three allocations.
// Offset pointers keep the tree valid at any mapping address.
using NodeHook = bin::set_base_hook<bin::void_pointer<bi::offset_ptr<void>>, bin::optimize_size<true>,
                                    bin::link_mode<bin::normal_link>>;

struct Node : NodeHook {
  Node(std::uint32_t k, std::uint32_t v) : key_size(k), value_size(v) {}

  std::uint32_t key_size;
  std::uint32_t value_size;
  // key_size bytes of key, then value_size bytes of value, follow the node.

  char* tail() { return reinterpret_cast<char*>(this + 1); }
  const char* tail() const { return reinterpret_cast<const char*>(this + 1); }
  std::string_view key() const { return {tail(), key_size}; }
  std::string_view value() const { return {tail() + key_size, value_size}; }
};

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
// segment has no room (or the key or value could never fit a node).
inline Node* node_make(SegmentManager* manager, std::string_view key, std::string_view value) {
  constexpr std::size_t kMax = std::numeric_limits<std::uint32_t>::max();
  if (key.size() > kMax || value.size() > kMax) return nullptr;
  void* memory = manager->allocate(sizeof(Node) + key.size() + value.size(), std::nothrow);
  if (!memory) return nullptr;
  Node* node = new (memory) Node(static_cast<std::uint32_t>(key.size()), static_cast<std::uint32_t>(value.size()));
  if (!key.empty()) std::memcpy(node->tail(), key.data(), key.size());
  if (!value.empty()) std::memcpy(node->tail() + key.size(), value.data(), value.size());
  return node;
}

// node_free returns an unlinked node's memory to the segment.
inline void node_free(SegmentManager* manager, Node* node) {
  node->~Node();
  manager->deallocate(node);
}

// "shmkv" and a format number open the root object, so that a segment of
// another format or Boost version is recognised and refused, not misread.
// Format 1 was a boost::container::map of two strings per entry; format 2 is
// the intrusive tree of single-allocation nodes above.
constexpr std::uint64_t kMagic = 0x73686d6b762d6b76;  // "shmkv-kv"
constexpr std::uint32_t kFormat = 2;
constexpr char kRootName[] = "shmkv.root";

// RootHeader is what every format's root begins with; open reads it before
// it trusts the rest.
struct RootHeader {
  std::uint64_t magic;
  std::uint32_t format;
  std::uint32_t boost_version;
};

struct Root {
  std::uint64_t magic = kMagic;
  std::uint32_t format = kFormat;
  std::uint32_t boost_version = BOOST_VERSION;
  bi::interprocess_mutex mutex;  // guards map and the nodes linked in it
  Map map;
  pid_t server_pid = 0;  // the shmkvd that claimed the segment last
  // map.size(), kept under mutex, readable without it (key_count).
  std::atomic<std::uint64_t> key_count{0};
};

using Lock = bi::scoped_lock<bi::interprocess_mutex>;

class Segment {
 public:
  bi::managed_shared_memory memory;
  Root* root = nullptr;
};

}  // namespace shmkv::store
