// The store's side of snapshots (shmkv-protocol(7), Snapshots): a
// point-in-time copy of the map taken in one short hold of the lock, and the
// load of a snapshot into a new store at start-up.
//
// The copy. Redis forks and lets copy-on-write keep the child's view still;
// here the map lives in shared memory, which a child keeps seeing change. But
// the segment is position-independent (offset pointers, Refs relative to the
// segment manager), so a byte copy of it at another address is a map that
// works where it lies. Under the lock only the pages the segment has ever
// written are copied (the file's data extents: a new store's untouched
// pages are holes), into private memory faulted in beforehand; the walk of
// the copy and the file's writing happen after the lock is released.
#include "store/store_layout.hpp"
#include "store/store_walk.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "store/store.hpp"

namespace shmkv::store {
namespace {

// A snapshot copy's part: 8 MiB, about a millisecond's copying, so that
// renewing the lock watch after each costs nothing measurable.
constexpr std::size_t kCopyPart = std::size_t(8) << 20;

struct Extent {
  std::size_t begin;
  std::size_t end;
};

// data_extents lists the ranges of the segment's file that hold data. A
// file system without SEEK_DATA gets one extent: the whole segment.
Status data_extents(int fd, std::size_t size, const std::string& path, std::vector<Extent>* out) {
  out->clear();
  off_t at = 0;
  while (static_cast<std::size_t>(at) < size) {
    const off_t data = lseek(fd, at, SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;  // only a hole is left
      if (errno == EINVAL) {
        out->assign(1, Extent{0, size});
        return Status::ok();
      }
      return Status::io(errno_text("seek in " + path, errno));
    }
    off_t hole = lseek(fd, data, SEEK_HOLE);
    if (hole < 0) return Status::io(errno_text("seek in " + path, errno));
    hole = std::min<off_t>(hole, static_cast<off_t>(size));
    if (hole > data) out->push_back({static_cast<std::size_t>(data), static_cast<std::size_t>(hole)});
    at = hole;
  }
  return Status::ok();
}

std::uint64_t now_unix_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// The one place where a node's kind and expiry time become a snapshot
// record's, and (node_for_record) a record's become a node's.
snapshot::Kind kind_of(const Node& node) {
  return node.kind() == Kind::kBytes ? snapshot::Kind::kBytes : snapshot::Kind::kJson;
}
std::uint64_t expiry_of(const Node& node) {
  return node.expires() ? static_cast<std::uint64_t>(node.expiry()->expires_at_ms) : 0;
}
Node* node_for_record(SegmentManager* manager, const snapshot::Record& r, std::uint32_t hash) {
  return node_make(manager, r.key, r.value, hash, r.kind == snapshot::Kind::kBytes ? Kind::kBytes : Kind::kJson,
                   static_cast<std::int64_t>(r.expires_ms));
}

}  // namespace

struct SnapshotCopy::Walk {
  Walk(const Bounds& bounds, NodePtr header, std::uint64_t count)
      : bounds(bounds), header(header), tree(bounds, header, 8 * (count + 2)) {}
  Bounds bounds;
  NodePtr header;
  TreeWalk tree;
  NodePtr at;
  bool started = false;
  std::uint64_t visited = 0;
};

SnapshotCopy::~SnapshotCopy() {
  walk_.reset();
  if (memory_) munmap(memory_, size_);
}

bool SnapshotCopy::next(snapshot::Record* record) {
  if (!walk_ || !status_) return false;
  Walk& w = *walk_;
  for (;;) {
    const NodePtr n = w.started ? w.tree.next(w.at) : w.tree.first();
    w.started = true;
    if (!n) {
      status_ = Status::corrupt(fmt::format("the copied map's link after entry {} is broken", w.visited));
      return false;
    }
    if (n == w.header) {
      // Copied under the lock, the map is whole: its count must be exact.
      if (w.visited != count_)
        status_ = Status::corrupt(fmt::format("the copied map has {} entries, not the {} it counts", w.visited, count_));
      walk_.reset();
      return false;
    }
    w.at = n;
    const Node* node = Map::value_traits::to_value_ptr(n).get();
    if (++w.visited > count_ || !w.bounds.holds(node, sizeof(Node)) ||
        !w.bounds.holds(node->tail(), std::size_t(node->key_size) + node->value_size())) {
      status_ = Status::corrupt(fmt::format("the copied map's entry {} is damaged", w.visited));
      return false;
    }
    record->key = node->key();
    record->value = node->value();
    record->kind = kind_of(*node);
    record->expires_ms = expiry_of(*node);
    if (record->expires_ms != 0 && record->expires_ms <= now_ms_) continue;  // expired: not saved
    return true;
  }
}

Status Store::snapshot_copy(std::unique_ptr<SnapshotCopy>* out, std::uint64_t* lock_us, int debug_pause_ms) {
  Segment& seg = *segment_;
  const std::size_t size = seg.memory.get_size();
  const char* base = static_cast<const char*>(seg.memory.get_address());
  const std::string path = "/dev/shm/" + name_;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::io(errno_text("open " + path, errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (fstat(fd, &st) < 0) return Status::io(errno_text("stat " + path, errno));
  if (static_cast<std::size_t>(st.st_size) != size)
    return Status::io(fmt::format("{} is no longer this store's segment", path));

  std::unique_ptr<SnapshotCopy> copy(new SnapshotCopy);
  void* memory = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (memory == MAP_FAILED) return Status::io(errno_text(fmt::format("mmap {} bytes for a snapshot", size), errno));
  copy->memory_ = static_cast<char*>(memory);
  copy->size_ = size;
  // Fault the copy's pages in before the lock is taken: a page fault per
  // 4 KiB under the lock would cost more than the copy itself.
  std::vector<Extent> extents;
  if (Status s = data_extents(fd, size, path, &extents); !s) return s;
  const std::size_t high = extents.empty() ? 0 : extents.back().end;
  if (high > 0 && madvise(copy->memory_, high, MADV_POPULATE_WRITE) < 0)
    std::fill(copy->memory_, copy->memory_ + high, 0);  // an older kernel: the same, by hand
  // And map this process's view of the segment's pages (a worker may never
  // have touched most of them); only the data extents, not to fill holes.
  for (const Extent& e : extents) {
    const std::size_t page_begin = e.begin & ~std::size_t(4095);
    madvise(const_cast<char*>(base) + page_begin, e.end - page_begin, MADV_POPULATE_READ);
  }

  const std::size_t root_offset = reinterpret_cast<const char*>(seg.root) - base;
  const Status copied = locked([&] {
    const auto start = std::chrono::steady_clock::now();
    // Pages written since the first listing are data now: list again.
    if (Status s = data_extents(fd, size, path, &extents); !s) return s;
    for (const Extent& e : extents) {
      for (std::size_t at = e.begin; at < e.end; at += kCopyPart) {
        const std::size_t n = std::min(kCopyPart, e.end - at);
        std::memcpy(copy->memory_ + at, base + at, n);
        still_holding();
        if (debug_pause_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(debug_pause_ms));
      }
    }
    copy->count_ = seg.root->map.size();
    *lock_us = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count());
    return Status::ok();
  });
  if (!copied) return copied;
  copy->now_ms_ = now_unix_ms();
  const Bounds bounds{copy->memory_, copy->memory_ + size};
  Root* root = reinterpret_cast<Root*>(copy->memory_ + root_offset);
  copy->walk_ = std::make_unique<SnapshotCopy::Walk>(bounds, root->map.end().pointed_node(), copy->count_);
  *out = std::move(copy);
  return Status::ok();
}

Status Store::load_snapshot(snapshot::File& file, std::uint64_t now_ms, std::size_t* loaded, std::size_t* expired,
                            const std::function<Status(const snapshot::Record&)>& accept) {
  *loaded = 0;
  *expired = 0;
  Root& root = *segment_->root;
  SegmentManager* manager = segment_->memory.get_segment_manager();
  IndexView index(root.index, manager);
  return locked([&] {
    if (!root.map.empty()) return Status::invalid(fmt::format("store {} is not empty", name_));
    snapshot::Record r;
    while (file.next(&r)) {
      if (accept)
        if (Status s = accept(r); !s) return s;
      if (r.expires_ms != 0 && r.expires_ms <= now_ms) {
        ++*expired;
        continue;
      }
      Node* node = node_for_record(manager, r, index.hash(r.key));
      if (!node)
        return Status::full(fmt::format("store {} is full after {} of the snapshot's {} keys ({} bytes); give "
                                        "a larger --memory",
                                        name_, *loaded, file.count(), segment_->memory.get_size()));
      // A snapshot holds its keys in ascending order, so the end is the
      // place to insert; a key seen twice is refused, not kept twice.
      Change change(root);  // per key: a reader open during the load waits for one insert at most
      const auto it = root.map.insert(root.map.end(), *node);
      if (&*it != node) {
        node_free(manager, node);
        return Status::corrupt(fmt::format("the snapshot holds key {:?} twice", std::string(r.key.substr(0, 64))));
      }
      index.link(node, root.map.size());
      if (ExpiryHead* head = node->expiry()) root.expiries.insert(*head);
      root.key_count.store(root.map.size(), std::memory_order_relaxed);
      ++*loaded;
    }
    return Status::ok();
  });
}

}  // namespace shmkv::store
