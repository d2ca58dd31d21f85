#include "store/store_layout.hpp"

#include "store/store.hpp"

#include <fmt/format.h>

#include <boost/date_time/posix_time/posix_time_types.hpp>
#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <random>

namespace shmkv::store {

namespace bi = boost::interprocess;

Root* construct_root(bi::managed_shared_memory& memory, std::size_t keys) {
  Root* root = memory.construct<Root>(kRootName)();
  if (!IndexView(root->index, memory.get_segment_manager()).init(keys, std::random_device{}()))
    throw std::bad_alloc();
  return root;
}

namespace {

std::string user_name(uid_t uid) {
  const passwd* pw = getpwuid(uid);
  return pw ? fmt::format("{} (uid {})", pw->pw_name, uid) : fmt::format("uid {}", uid);
}

// check_access refuses an existing segment that another user owns, or that
// a user other than its owner may read or write: whoever planted it, or can
// write it, could read the keys served from it or change what is served.
// The store makes its segments 0600. It runs before the segment is attached,
// so that nothing of a planted one is read, with missing_ok, and again
// after, for a segment made in between; /dev/shm is sticky, so another user
// cannot swap a name that is ours for a segment of theirs.
Status check_access(const std::string& name, bool missing_ok) {
  const std::string path = "/dev/shm/" + name;
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && missing_ok) return Status::ok();
  if (fd < 0) return Status::io(errno_text("shared memory segment " + path, errno));
  struct stat st;
  const int rc = fstat(fd, &st);
  const int err = errno;
  ::close(fd);
  if (rc < 0) return Status::io(errno_text("shared memory segment " + path, err));
  if (st.st_uid == geteuid() && (st.st_mode & 077) == 0 && S_ISREG(st.st_mode)) return Status::ok();
  return Status::invalid(fmt::format(
      "shared memory segment {} belongs to {} with mode {:04o}; shmkvd serves only a segment of its own user, {}, "
      "that no other user can read or write: remove it (rm {}) to start with an empty store, or, if you trust "
      "what is in it, chown it to that user and chmod it 0600",
      path, user_name(st.st_uid), st.st_mode & 07777, user_name(geteuid()), path));
}

}  // namespace

Status Store::open(const std::string& name, std::size_t size, std::unique_ptr<Store>* out) {
  std::unique_ptr<Store> store(new Store);
  store->segment_ = std::make_unique<Segment>();
  store->name_ = name;
  Segment& seg = *store->segment_;
  if (Status s = check_access(name, true); !s) return s;
  try {
    try {
      bi::managed_shared_memory attached(bi::open_only, name.c_str());
      seg.memory.swap(attached);
    } catch (const bi::interprocess_exception& e) {
      if (e.get_error_code() != bi::not_found_error) throw;
      bi::permissions owner_only(0600);
      if (size > kMaximumSize)
        return Status::invalid(fmt::format("a store can be at most {} GiB", kMaximumSize >> 30));
      bi::managed_shared_memory created(bi::create_only, name.c_str(), size, nullptr, owner_only);
      seg.memory.swap(created);
      seg.root = construct_root(seg.memory, 0);
      store->created_ = true;
    }
    if (!store->created_)
      if (Status s = check_access(name, false); !s) return s;
    if (!seg.root) {
      // Found as bytes, not as a Root: another format's root has another
      // size, which a typed find would assert on. Its header says which.
      const auto [bytes, length] = seg.memory.find<unsigned char>(kRootName);
      if (!bytes)
        return Status::corrupt(fmt::format("shared memory segment {} holds no shmkv store", name));
      RootHeader header{};
      if (length >= sizeof header) std::memcpy(&header, bytes, sizeof header);
      if (header.magic != kMagic || header.format != kFormat || header.boost_version != BOOST_VERSION ||
          length != sizeof(Root))
        return Status::corrupt(fmt::format(
            "shared memory segment {} has store format {} made with Boost {}, this shmkvd reads format "
            "{} with Boost {}",
            name, header.format, header.boost_version, kFormat, BOOST_VERSION));
      seg.root = reinterpret_cast<Root*>(bytes);
    }
  } catch (const bi::interprocess_exception& e) {
    return Status::io(fmt::format("shared memory segment {}: {}", name, e.what()));
  } catch (const std::exception& e) {  // bad_alloc: size too small for the root
    return Status::io(fmt::format("shared memory segment {}: {}", name, e.what()));
  }
  *out = std::move(store);
  return Status::ok();
}

bool Store::exists(const std::string& name) {
  try {
    bi::shared_memory_object segment(bi::open_only, name.c_str(), bi::read_only);
    return true;
  } catch (const bi::interprocess_exception&) {
    return false;
  }
}

Status Store::remove(const std::string& name) {
  if (!bi::shared_memory_object::remove(name.c_str()))
    return Status::not_found(fmt::format("no shared memory segment {}", name));
  return Status::ok();
}

Status Store::claim() {
  // The segment's own file under /dev/shm carries the lock: it exists exactly
  // as long as the segment, and flock dies with the last process holding it.
  if (claim_fd_ >= 0) {  // claimed already: a detached daemon has a new pid
    segment_->root->server_pid = getpid();
    return Status::ok();
  }
  const std::string path = "/dev/shm/" + name_;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::io(errno_text("open " + path, errno));
  if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK)
      return Status::busy(fmt::format("store {} is already served by shmkvd pid {}; stop that one first", name_,
                                      segment_->root->server_pid));
    return Status::io(errno_text("lock " + path, err));
  }
  claim_fd_ = fd;
  segment_->root->server_pid = getpid();
  return Status::ok();
}

Store::~Store() {
  if (claim_fd_ >= 0) ::close(claim_fd_);
}

Status Store::get(std::string_view key, std::string* value) {
  Lookup lookup{key, {}, false};
  if (Status s = get_many(&lookup, 1); !s) return s;
  if (!lookup.found) return Status::not_found();
  *value = std::move(lookup.value);
  return Status::ok();
}

Status Store::get_many(Lookup* lookups, std::size_t count) {
  Root& root = *segment_->root;
  IndexView index(root.index, segment_->memory.get_segment_manager());
  for (std::size_t done = 0; done < count;) {
    const std::size_t n = std::min(count - done, IndexView::kBatch);
    Lookup* batch = lookups + done;
    std::string_view keys[IndexView::kBatch];
    std::uint32_t hashes[IndexView::kBatch];
    for (std::size_t i = 0; i < n; ++i) {
      keys[i] = batch[i].key;
      hashes[i] = index.hash(keys[i]);
    }
    const Status s = locked([&] {
      const Node* found[IndexView::kBatch];
      index.find_many(keys, hashes, n, found);
      for (std::size_t i = 0; i < n; ++i) {
        batch[i].found = found[i] != nullptr;
        if (found[i]) batch[i].value.assign(found[i]->value());
      }
      return Status::ok();
    });
    if (!s) return s;
    done += n;
  }
  return Status::ok();
}

Status Store::put(std::string_view key, std::string_view value) {
  Root& root = *segment_->root;
  SegmentManager* manager = segment_->memory.get_segment_manager();
  IndexView index(root.index, manager);
  const std::uint32_t hash = index.hash(key);
  return locked([&] {
    Ref* link = nullptr;
    Node* old = index.find(key, hash, &link);
    // The new node is allocated before the map changes, so a full segment
    // leaves the old entry exactly as it was.
    Node* node = node_make(manager, key, value, hash);
    if (!node) return Status::full();
    if (old) {
      root.map.replace_node(Map::s_iterator_to(*old), *node);
      index.replace(link, old, node);
      node_free(manager, old);
    } else {
      root.map.insert(*node);
      root.key_count.store(root.map.size(), std::memory_order_relaxed);
      index.link(node, root.map.size());
    }
    return Status::ok();
  });
}

Status Store::del(std::string_view key) {
  Root& root = *segment_->root;
  SegmentManager* manager = segment_->memory.get_segment_manager();
  IndexView index(root.index, manager);
  const std::uint32_t hash = index.hash(key);
  return locked([&] {
    Ref* link = nullptr;
    Node* node = index.find(key, hash, &link);
    if (!node) return Status::not_found();
    index.unlink(link, node);
    root.map.erase(Map::s_iterator_to(*node));
    node_free(manager, node);
    root.key_count.store(root.map.size(), std::memory_order_relaxed);
    return Status::ok();
  });
}

Status Store::scan(std::string_view prefix, const std::string_view* after, std::size_t limit,
                   std::size_t max_bytes, Page* page) {
  Root& root = *segment_->root;
  page->keys.clear();
  page->more = false;
  return locked([&] {
    auto it = (after && *after >= prefix) ? root.map.upper_bound(*after) : root.map.lower_bound(prefix);
    std::size_t bytes = 0;
    for (; it != root.map.end(); ++it) {
      const std::string_view key = it->key();
      if (key.substr(0, prefix.size()) != prefix) break;
      if (page->keys.size() == limit || (!page->keys.empty() && bytes + key.size() > max_bytes)) {
        page->more = true;
        break;
      }
      bytes += key.size();
      page->keys.emplace_back(key);
    }
    return Status::ok();
  });
}

std::size_t Store::key_count() const {
  return segment_->root->key_count.load(std::memory_order_relaxed);
}

std::size_t Store::size() const { return segment_->memory.get_size(); }

Counts Store::counts() {
  Counts c;
  c.store_bytes = segment_->memory.get_size();
  // The allocator's lock is taken inside the store lock, as in put: a
  // process that died holding it died holding the store lock too, which
  // then refuses at once, rather than leave this waiting on the
  // allocator's lock. A lock left unusable leaves the counts 0; STATS
  // says why through store_status.
  (void)locked([&] {
    c.free_bytes = segment_->memory.get_free_memory();
    c.keys = segment_->root->map.size();
    return Status::ok();
  });
  return c;
}

namespace {

std::int64_t monotonic_ms() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return std::max<std::int64_t>(1, std::int64_t(now.tv_sec) * 1000 + now.tv_nsec / 1000000);
}

}  // namespace

Status Store::lock() {
  // A waiter waits in short slices and asks watch_.give_up between them.
  // A holder that dies wakes one waiter, with EOWNERDEAD, which Boost turns
  // into a lock_exception after releasing the mutex marked not recoverable;
  // glibc wakes one waiter per release, and the wake-ups that should pass
  // the news along the queue stop short (measured: of 40 waiters, 3 woke and
  // 37 slept on a mutex nobody would release until the parent killed them).
  // A waiter woken by the end of its slice finds the mutex unusable (an
  // immediate lock_exception) or a recovery under way (give_up).
  constexpr int kSliceMs = 10;
  bi::interprocess_mutex& mutex = segment_->root->mutex;
  try {
    if (!mutex.try_lock()) {
      for (;;) {
        const auto until = boost::posix_time::microsec_clock::universal_time() +
                           boost::posix_time::milliseconds(kSliceMs);
        if (mutex.timed_lock(until)) break;
        if (watch_.give_up && watch_.give_up()) return Status::busy(kRecovering);
      }
    }
  } catch (const bi::interprocess_exception&) {
    // not_recoverable: a process died holding the lock (Boost reports
    // EOWNERDEAD and ENOTRECOVERABLE alike, having released it unusable).
    return Status::corrupt(kRecovering);
  }
  if (watch_.held_since) watch_.held_since->store(monotonic_ms(), std::memory_order_relaxed);
  return Status::ok();
}

void Store::unlock() {
  if (watch_.held_since) watch_.held_since->store(0, std::memory_order_relaxed);
  segment_->root->mutex.unlock();
}

}  // namespace shmkv::store
