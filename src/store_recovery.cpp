#include "store_layout.hpp"  // first: it sets a Boost.Interprocess parameter

#include <boost/date_time/posix_time/posix_time_types.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "shmkv/store.hpp"

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

}  // namespace

Status Store::salvage_into(const std::string& new_name, std::size_t* copied) {
  *copied = 0;
  const Root& old = *segment_->root;
  const Bounds bounds{static_cast<const char*>(segment_->memory.get_address()),
                      static_cast<const char*>(segment_->memory.get_address()) + segment_->memory.get_size()};
  // The map's own count bounds the walk, so a cycle cannot make it endless.
  const std::size_t expected = old.map.size();
  try {
    bi::shared_memory_object::remove(new_name.c_str());
    bi::permissions owner_only(0600);
    bi::managed_shared_memory fresh(bi::create_only, new_name.c_str(), segment_->memory.get_size(), nullptr,
                                    owner_only);
    Root* root = fresh.construct<Root>(kRootName)(fresh.get_segment_manager());
    SegmentManager* manager = fresh.get_segment_manager();
    std::string_view previous;
    bool first = true;
    for (auto it = old.map.begin(); it != old.map.end(); ++it) {
      if (*copied > expected) return Status::corrupt("the map has more entries than it counts (a cycle?)");
      if (!bounds.holds(&*it, sizeof(Entry))) return Status::corrupt("a map node lies outside the segment");
      const std::string_view key = KeyLess::view(it->first);
      const std::string_view value = KeyLess::view(it->second);
      if (!bounds.holds(key.data(), key.size()) || !bounds.holds(value.data(), value.size()))
        return Status::corrupt(fmt::format("entry {} points outside the segment", *copied));
      if (!first && !(previous < key)) return Status::corrupt(fmt::format("keys out of order at entry {}", *copied));
      root->map.emplace_hint(root->map.end(), ShmString(key.data(), key.size(), manager),
                             ShmString(value.data(), value.size(), manager));
      previous = key;
      first = false;
      ++*copied;
    }
    root->key_count.store(root->map.size());
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

Status Store::debug_hold_lock(std::uint32_t ms) {
  try {
    Lock lock(segment_->root->mutex);
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return Status::ok();
  } catch (const bi::interprocess_exception& e) {
    return Status::io(fmt::format("store lock: {}", e.what()));
  }
}

void Store::debug_crash_in_store() {
  segment_->root->mutex.lock();  // and never unlocked: the process dies with it
  std::abort();
}

}  // namespace shmkv::store
