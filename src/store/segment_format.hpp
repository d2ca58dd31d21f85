// The parts of the segment's layout that a local reader (src/local/) reads
// without Boost.Interprocess: the root's header, the change sequence, the
// index's words and a node's fields, as byte offsets. store_layout.hpp
// checks every number here against the real types at compile time.
#pragma once

#include <boost/container_hash/hash.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace shmkv::store {

// "shmkv" and a format number open the root object, so that a segment of
// another format or Boost version is recognised and refused, not misread.
// Format 1 was a boost::container::map of two strings per entry; format 2
// the intrusive tree of single-allocation nodes; format 3 adds the hash
// index; format 4 the value's kind and expiry flags in value_bits, the
// ExpiryHead and the expiry tree; format 5 the root's change sequence and
// retired mark and its own offsets, for local readers (shmkv-protocol(7),
// Local readers), with the words a reader reads moved to the root's front.
constexpr std::uint64_t kMagic = 0x73686d6b762d6b76;  // "shmkv-kv"
constexpr std::uint32_t kFormat = 5;

// RootHeader is what every format's root begins with; open reads it before
// it trusts the rest.
struct RootHeader {
  std::uint64_t magic;
  std::uint32_t format;
  std::uint32_t boost_version;
};

// Byte offsets of the root's fields that a reader reads (struct Root).
namespace root_offset {
constexpr std::size_t kMagic = 0;
constexpr std::size_t kFormat = 8;
constexpr std::size_t kBoostVersion = 12;
constexpr std::size_t kChanges = 16;        // std::atomic<uint64_t>: odd while a change is under way
constexpr std::size_t kRetired = 24;        // std::atomic<uint32_t>: 1 once a salvage replaced the segment
constexpr std::size_t kSelf = 32;           // uint64_t: the root's offset from the segment's start
constexpr std::size_t kManager = 40;        // uint64_t: the segment manager's offset from the segment's start
constexpr std::size_t kKeyCount = 48;       // std::atomic<uint64_t>: the keys in the map
constexpr std::size_t kIndex = 56;          // struct Index
}  // namespace root_offset

// Byte offsets in struct Index, from its start.
namespace index_offset {
constexpr std::size_t kBuckets = 0;      // offset_ptr<Ref>
constexpr std::size_t kBucketCount = 8;  // uint32_t, a power of two
constexpr std::size_t kOldBuckets = 16;  // offset_ptr<Ref>
constexpr std::size_t kOldCount = 24;    // uint32_t, 0 when no growth is under way
constexpr std::size_t kMoved = 28;       // uint32_t
constexpr std::size_t kSeed = 32;        // uint64_t
}  // namespace index_offset

// An offset_ptr holds the distance from itself to its target; 1 means null
// (Boost.Interprocess's offset_ptr, whose layout the root's boost_version pins).
constexpr std::int64_t kOffsetPtrNull = 1;

// A node: a 24-byte tree hook, then these fields, then an ExpiryHead (a
// 24-byte hook and the expiry time) when kNodeExpiryBit is set, then the
// key's bytes, then the value's.
namespace node_offset {
constexpr std::size_t kKeySize = 24;    // uint32_t
constexpr std::size_t kValueBits = 28;  // uint32_t: size | kNodeBytesBit | kNodeExpiryBit
constexpr std::size_t kHash = 32;       // uint32_t
constexpr std::size_t kNext = 36;       // uint32_t: a Ref
constexpr std::size_t kSize = 40;       // sizeof(Node)
constexpr std::size_t kExpiryAt = 24;   // int64_t, in the ExpiryHead that follows the node
constexpr std::size_t kExpirySize = 32;  // sizeof(ExpiryHead)
}  // namespace node_offset
constexpr std::uint32_t kNodeBytesBit = std::uint32_t(1) << 31;
constexpr std::uint32_t kNodeExpiryBit = std::uint32_t(1) << 30;
constexpr std::uint32_t kNodeSizeMask = kNodeExpiryBit - 1;

// A Ref is a node's or bucket array's offset from the segment manager in
// units of kRefUnit (alignof(Node)); 0 is none.
constexpr std::size_t kRefUnit = 8;

// index_hash is the hash index's hash of a key under the store's seed: the
// writer's IndexView::hash and every reader compute it here, so that they
// agree.
inline std::uint32_t index_hash(std::uint64_t seed, std::string_view key) {
  std::size_t h = static_cast<std::size_t>(seed);
  boost::hash_range(h, key.begin(), key.end());
  return static_cast<std::uint32_t>(h);
}

}  // namespace shmkv::store
