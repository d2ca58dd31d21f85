// The store's layout in its segment, shared by the store's own source files
// (store.cpp: the operations; store_recovery.cpp: health, salvage and the
// test hooks). Internal: nothing outside src/store*.cpp includes it.
#pragma once

// A restarted daemon must not hang five minutes on a segment whose creator
// died while initialising it: give up on it after a few seconds instead.
#define BOOST_INTERPROCESS_MANAGED_OPEN_OR_CREATE_INITIALIZE_TIMEOUT_SEC 2u

#include <boost/container/map.hpp>
#include <boost/container/string.hpp>
#include <boost/interprocess/allocators/allocator.hpp>
#include <boost/interprocess/managed_shared_memory.hpp>
#include <boost/interprocess/sync/interprocess_mutex.hpp>
#include <boost/interprocess/sync/scoped_lock.hpp>
#include <boost/version.hpp>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string_view>

namespace shmkv::store {

namespace bi = boost::interprocess;

using SegmentManager = bi::managed_shared_memory::segment_manager;
using ShmString = boost::container::basic_string<char, std::char_traits<char>, bi::allocator<char, SegmentManager>>;

// KeyLess orders keys by their bytes (char_traits compares as unsigned char)
// and lets lookups use a std::string_view without building a ShmString.
struct KeyLess {
  using is_transparent = void;
  static std::string_view view(const ShmString& s) { return {s.data(), s.size()}; }
  bool operator()(const ShmString& a, const ShmString& b) const { return view(a) < view(b); }
  bool operator()(const ShmString& a, std::string_view b) const { return view(a) < b; }
  bool operator()(std::string_view a, const ShmString& b) const { return a < view(b); }
};

using Entry = std::pair<const ShmString, ShmString>;
using Map = boost::container::map<ShmString, ShmString, KeyLess, bi::allocator<Entry, SegmentManager>>;

// "shmkv" and a format number open the root object, so that a segment of
// another format or Boost version is recognised and refused, not misread.
constexpr std::uint64_t kMagic = 0x73686d6b762d6b76;  // "shmkv-kv"
constexpr std::uint32_t kFormat = 1;
constexpr char kRootName[] = "shmkv.root";

struct Root {
  explicit Root(SegmentManager* manager) : map(KeyLess(), manager) {}

  std::uint64_t magic = kMagic;
  std::uint32_t format = kFormat;
  std::uint32_t boost_version = BOOST_VERSION;
  bi::interprocess_mutex mutex;  // guards map
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
