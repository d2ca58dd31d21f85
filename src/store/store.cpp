#include "store/store_layout.hpp"

#include "store/store.hpp"

#include <fmt/format.h>

#include <boost/date_time/posix_time/posix_time_types.hpp>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <csignal>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <random>
#include <thread>

namespace shmkv::store {

namespace bi = boost::interprocess;

std::int64_t wall_clock_ms() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return std::int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

namespace {

// The map, the index and the expiry tree change together: these three keep
// them in step, each in one Change for local readers (store_layout.hpp). A
// node unlinked is freed after its change: no reader reaches it then, and
// the change, which readers wait for, stays short. The tree and the index
// change one after the other, and the signal fence between keeps the
// compiler from interleaving their stores: a writer killed in the middle
// then leaves one of them whole for the salvage (store_recovery.cpp).
// REQUIRES: store lock held.

// link_node adds a node whose key is absent.
void link_node(Root& root, IndexView& index, Node* node) {
  Change change(root);
  root.map.insert(*node);
  root.key_count.store(root.map.size(), std::memory_order_relaxed);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  index.link(node, root.map.size());
  if (ExpiryHead* head = node->expiry()) root.expiries.insert(*head);
}

// replace_node puts node in old's place (the same key) and frees old.
void replace_node(Root& root, IndexView& index, SegmentManager* manager, Ref* link, Node* old, Node* node) {
  {
    Change change(root);
    root.map.replace_node(Map::s_iterator_to(*old), *node);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    index.replace(link, old, node);
    if (ExpiryHead* head = old->expiry()) root.expiries.erase(ExpiryMap::s_iterator_to(*head));
    if (ExpiryHead* head = node->expiry()) root.expiries.insert(*head);
  }
  node_free(manager, old);
}

// install puts node in the place of old, which may be null (the key is
// absent) or expired, and then counts as an expired key removed.
void install(Root& root, IndexView& index, SegmentManager* manager, Ref* link, Node* old, bool old_expired,
             Node* node) {
  if (!old) return link_node(root, index, node);
  replace_node(root, index, manager, link, old, node);
  // Counted after the removal, as everywhere: a death in between leaves
  // the count one short, never one over (shmkv-protocol(7), STATS).
  if (old_expired) ++root.expired_total;
}

// unlink_node removes node, which link points to, and frees it.
void unlink_node(Root& root, IndexView& index, SegmentManager* manager, Ref* link, Node* node) {
  {
    Change change(root);
    index.unlink(link, node);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    root.map.erase(Map::s_iterator_to(*node));
    if (ExpiryHead* head = node->expiry()) root.expiries.erase(ExpiryMap::s_iterator_to(*head));
    root.key_count.store(root.map.size(), std::memory_order_relaxed);
  }
  node_free(manager, node);
}

// parse_integer reads text that is exactly a decimal integer in signed
// 64-bit range (a JSON integer, or bytes spelling one: shmkv-protocol(7),
// INCR and Value kinds).
bool parse_integer(std::string_view text, std::int64_t* out) {
  if (text.empty() || !(text[0] == '-' || (text[0] >= '0' && text[0] <= '9'))) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

Root* construct_root(bi::managed_shared_memory& memory, std::size_t keys) {
  Root* root = memory.construct<Root>(kRootName)();
  const char* start = static_cast<const char*>(memory.get_address());
  root->self_offset = static_cast<std::uint64_t>(reinterpret_cast<const char*>(root) - start);
  root->manager_offset = static_cast<std::uint64_t>(reinterpret_cast<const char*>(memory.get_segment_manager()) - start);
  if (!IndexView(root->index, memory.get_segment_manager()).init(keys, std::random_device{}()))
    throw std::bad_alloc();
  return root;
}

namespace {

std::string user_name(uid_t uid) {
  const passwd* pw = getpwuid(uid);
  return pw ? fmt::format("{} (uid {})", pw->pw_name, uid) : fmt::format("uid {}", uid);
}

std::string group_name(gid_t gid) {
  const group* gr = getgrgid(gid);
  return gr ? fmt::format("{} (gid {})", gr->gr_name, gid) : fmt::format("gid {}", gid);
}

// check_access refuses an existing segment that another user owns, or that
// lets in more users than access says: whoever planted it, or can write it,
// could read the keys served from it or change what is served, and a mode
// wider than asked for means someone opened it up. It runs before the
// segment is attached, so that nothing of a planted one is read, with
// missing_ok, and again after, for a segment made in between; /dev/shm is
// sticky, so another user cannot swap a name that is ours for one of theirs.
Status check_access(const std::string& name, bool missing_ok, const SegmentAccess& access) {
  const std::string path = "/dev/shm/" + name;
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && missing_ok) return Status::ok();
  if (fd < 0) return Status::io(errno_text("shared memory segment " + path, errno));
  struct stat st;
  const int rc = fstat(fd, &st);
  const int err = errno;
  ::close(fd);
  if (rc < 0) return Status::io(errno_text("shared memory segment " + path, err));
  const bool group_reads = st.st_mode & 040;
  const bool group_ok = !group_reads || access.group == static_cast<gid_t>(-1) || st.st_gid == access.group;
  if (st.st_uid == geteuid() && S_ISREG(st.st_mode) && (st.st_mode & 0777 & ~access.mode) == 0 && group_ok)
    return Status::ok();
  const bool owner_only = access.mode == SegmentAccess::kOwnerOnly;
  return Status::invalid(fmt::format(
      "shared memory segment {} belongs to {} with mode {:04o}{}; shmkvd serves only a segment of its own user, {}, "
      "that no other user can read or write{}: remove it (rm {}) to start with an empty store, or, if you trust "
      "what is in it, chown it to that user and chmod it {:04o}{}",
      path, user_name(st.st_uid), st.st_mode & 07777, group_reads ? " and group " + group_name(st.st_gid) : "",
      user_name(geteuid()),
      owner_only ? "" : fmt::format(" beyond what --segment-mode {:04o} and --segment-group allow", access.mode),
      path, access.mode,
      st.st_uid == geteuid() ? " (or give shmkvd the --segment-mode and --segment-group that opened it up)" : ""));
}

}  // namespace

Status Store::apply_access(const std::string& name, const SegmentAccess& access) {
  const std::string path = "/dev/shm/" + name;
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Status::io(errno_text("shared memory segment " + path, errno));
  Status s;
  if (access.group != static_cast<gid_t>(-1) && fchown(fd, static_cast<uid_t>(-1), access.group) < 0)
    s = Status::io(errno_text(fmt::format("give shared memory segment {} to group {}", path, access.group), errno));
  else if (fchmod(fd, access.mode) < 0)
    s = Status::io(errno_text(fmt::format("chmod {:04o} shared memory segment {}", access.mode, path), errno));
  ::close(fd);
  return s;
}

Status Store::open(const std::string& name, std::size_t size, std::unique_ptr<Store>* out,
                   const SegmentAccess& access) {
  std::unique_ptr<Store> store(new Store);
  store->segment_ = std::make_unique<Segment>();
  store->name_ = name;
  store->access_ = access;
  Segment& seg = *store->segment_;
  if (Status s = check_access(name, true, access); !s) return s;
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
    if (store->created_) {
      if (Status s = apply_access(name, access); !s) return s;
    } else {
      if (Status s = check_access(name, false, access); !s) return s;
      if (Status s = apply_access(name, access); !s) return s;  // a narrower mode than asked: open it up
    }
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
            "{} with Boost {}: remove it (shmkvd --remove-store --name {}) to start with the snapshot "
            "(--snapshot) or a dump (shmkv restore) that the shmkv which wrote it made, or empty",
            name, header.format, header.boost_version, kFormat, BOOST_VERSION, name));
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
  // A daemon killed outright leaves its workers holding the lock until they
  // see it gone and leave, a moment later: a restart (systemd's) waits for
  // them, up to 3 s, rather than fail.
  const pid_t server = segment_->root->server_pid;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  int err = 0;
  while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
    err = errno;
    const bool server_gone = server > 0 && ::kill(server, 0) < 0 && errno == ESRCH;
    if (err != EWOULDBLOCK || !server_gone || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    err = 0;
  }
  if (err != 0) {
    ::close(fd);
    if (err != EWOULDBLOCK) return Status::io(errno_text("lock " + path, err));
    if (server > 0 && ::kill(server, 0) < 0 && errno == ESRCH)
      return Status::busy(fmt::format("store {} is still held by workers of shmkvd pid {}, which died, although "
                                      "they leave a moment after it; stop them (pgrep -a shmkvd) and start again",
                                      name_, server));
    return Status::busy(fmt::format("store {} is already served by shmkvd pid {}; stop that one first", name_, server));
  }
  claim_fd_ = fd;
  segment_->root->server_pid = getpid();
  return Status::ok();
}

Store::~Store() {
  if (claim_fd_ >= 0) ::close(claim_fd_);
}

Status Store::get(std::string_view key, std::string* value, Kind* kind) {
  Lookup lookup{key, {}, false};
  if (Status s = get_many(&lookup, 1); !s) return s;
  if (!lookup.found) return Status::not_found();
  *value = std::move(lookup.value);
  if (kind) *kind = lookup.kind;
  return Status::ok();
}

Status Store::get_some(Lookup* lookups, std::size_t count, std::size_t max_bytes, std::size_t* done) {
  Root& root = *segment_->root;
  IndexView index(root.index, segment_->memory.get_segment_manager());
  max_bytes = std::max<std::size_t>(max_bytes, 1);  // at least one lookup
  std::size_t copied = 0;
  for (*done = 0; *done < count && copied < max_bytes;) {
    const std::size_t n = std::min(count - *done, IndexView::kBatch);
    Lookup* batch = lookups + *done;
    std::string_view keys[IndexView::kBatch];
    std::uint32_t hashes[IndexView::kBatch];
    for (std::size_t i = 0; i < n; ++i) {
      keys[i] = batch[i].key;
      hashes[i] = index.hash(keys[i]);
    }
    std::size_t made = 0;
    const Status s = locked([&] {
      const Node* found[IndexView::kBatch];
      index.find_many(keys, hashes, n, found);
      std::int64_t now = -1;  // read once, and only when a key found has an expiry
      for (std::size_t i = 0; i < n && copied < max_bytes; ++i, ++made) {
        if (found[i] && found[i]->expires()) {
          if (now < 0) now = now_ms();
          if (found[i]->expired(now)) found[i] = nullptr;  // the sweep removes it
        }
        batch[i].found = found[i] != nullptr;
        if (!found[i]) continue;
        batch[i].kind = found[i]->kind();
        if (!batch[i].value_wanted) continue;
        batch[i].value.assign(found[i]->value());
        copied += batch[i].value.size();
      }
      return Status::ok();
    });
    if (!s) return s;
    *done += made;
  }
  return Status::ok();
}

namespace {

// put_locked is a put's work: now is the time in ms, or -1 until a key with
// an expiry needs it (then read with clock).
// REQUIRES: store lock held.
template <typename ClockFn>
Status put_locked(Root& root, IndexView& index, SegmentManager* manager, std::string_view key,
                  std::string_view value, std::uint32_t hash, const PutOptions& options, std::int64_t& now,
                  const ClockFn& clock, bool* stored) {
  Ref* link = nullptr;
  Node* old = index.find(key, hash, &link);
  bool old_expired = false;
  if (old && old->expires()) {
    if (now < 0) now = clock();
    old_expired = old->expired(now);
  }
  const bool exists = old && !old_expired;
  if ((options.condition == Condition::kIfAbsent && exists) ||
      (options.condition == Condition::kIfPresent && !exists))
    return Status::ok();  // not stored, nothing changed
  // The new node is allocated before the map changes, so a full segment
  // leaves the old entry exactly as it was.
  Node* node = node_make(manager, key, value, hash, options.kind, options.ttl_ms > 0 ? now + options.ttl_ms : 0);
  if (!node) return Status::full();
  install(root, index, manager, link, old, old_expired, node);
  if (stored) *stored = true;
  return Status::ok();
}

}  // namespace

Status Store::put(std::string_view key, std::string_view value, const PutOptions& options, bool* stored) {
  Root& root = *segment_->root;
  SegmentManager* manager = segment_->memory.get_segment_manager();
  IndexView index(root.index, manager);
  const std::uint32_t hash = index.hash(key);
  if (stored) *stored = false;
  std::int64_t now = options.ttl_ms > 0 ? now_ms() : -1;
  return locked([&] {
    return put_locked(root, index, manager, key, value, hash, options, now, [this] { return now_ms(); }, stored);
  });
}

Status Store::put_many(Write* writes, std::size_t count, Kind kind) {
  Root& root = *segment_->root;
  SegmentManager* manager = segment_->memory.get_segment_manager();
  IndexView index(root.index, manager);
  PutOptions options;
  options.kind = kind;
  for (std::size_t done = 0; done < count;) {
    const std::size_t n = std::min(count - done, IndexView::kBatch);
    Write* batch = writes + done;
    std::uint32_t hashes[IndexView::kBatch];
    for (std::size_t i = 0; i < n; ++i) hashes[i] = index.hash(batch[i].key);
    const Status s = locked([&] {
      index.prefetch(hashes, n);
      std::int64_t now = -1;
      for (std::size_t i = 0; i < n; ++i)
        batch[i].status = put_locked(root, index, manager, batch[i].key, batch[i].value, hashes[i], options, now,
                                     [this] { return now_ms(); }, nullptr);
      return Status::ok();
    });
    if (!s) return s;
    done += n;
  }
  return Status::ok();
}

Status Store::incr(std::string_view key, std::int64_t by, std::int64_t* result) {
  Root& root = *segment_->root;
  SegmentManager* manager = segment_->memory.get_segment_manager();
  IndexView index(root.index, manager);
  const std::uint32_t hash = index.hash(key);
  return locked([&] {
    Ref* link = nullptr;
    Node* old = index.find(key, hash, &link);
    const bool old_expired = old && old->expires() && old->expired(now_ms());
    std::int64_t current = 0;
    std::int64_t expires_at = 0;
    if (old && !old_expired) {
      if (!parse_integer(old->value(), &current))
        return Status::invalid(fmt::format("the value of {} is not an integer in signed 64-bit range", key));
      if (const ExpiryHead* head = old->expiry()) expires_at = head->expires_at_ms;
    }
    std::int64_t sum = 0;
    if (__builtin_add_overflow(current, by, &sum))
      return Status::invalid(fmt::format("{} + {} is outside signed 64-bit range", current, by));
    char text[24];
    const auto [end, error] = std::to_chars(text, text + sizeof text, sum);
    (void)error;  // 24 bytes hold every int64
    // A JSON integer, readable by both protocols (shmkv-protocol(7), INCR).
    Node* node = node_make(manager, key, std::string_view(text, std::size_t(end - text)), hash, Kind::kJson,
                           expires_at);
    if (!node) return Status::full();
    install(root, index, manager, link, old, old_expired, node);
    *result = sum;
    return Status::ok();
  });
}

Status Store::expire(std::string_view key, std::int64_t ttl_ms) {
  Root& root = *segment_->root;
  SegmentManager* manager = segment_->memory.get_segment_manager();
  IndexView index(root.index, manager);
  const std::uint32_t hash = index.hash(key);
  const std::int64_t now = now_ms();
  return locked([&] {
    Ref* link = nullptr;
    Node* old = index.find(key, hash, &link);
    if (!old || old->expired(now)) return Status::not_found();
    if (ExpiryHead* head = old->expiry(); head && ttl_ms > 0) {  // a new time in the same head
      Change change(root);
      root.expiries.erase(ExpiryMap::s_iterator_to(*head));
      head->expires_at_ms = now + ttl_ms;
      root.expiries.insert(*head);
      return Status::ok();
    }
    if (!old->expires() && ttl_ms == 0) return Status::ok();  // nothing to remove
    // The head comes or goes with the node's layout: copy it into a new one.
    Node* node = node_make(manager, key, old->value(), hash, old->kind(), ttl_ms > 0 ? now + ttl_ms : 0);
    if (!node) return Status::full();
    replace_node(root, index, manager, link, old, node);
    return Status::ok();
  });
}

Status Store::ttl(std::string_view key, std::int64_t* ms_left) {
  Root& root = *segment_->root;
  IndexView index(root.index, segment_->memory.get_segment_manager());
  const std::uint32_t hash = index.hash(key);
  const std::int64_t now = now_ms();
  return locked([&] {
    const Node* node = index.find(key, hash, nullptr);
    if (!node || node->expired(now)) return Status::not_found();
    *ms_left = node->expires() ? node->expiry()->expires_at_ms - now : -1;
    return Status::ok();
  });
}

Status Store::sweep(std::size_t max_keys, std::size_t* removed, bool* more) {
  Root& root = *segment_->root;
  SegmentManager* manager = segment_->memory.get_segment_manager();
  IndexView index(root.index, manager);
  const std::int64_t now = now_ms();
  *removed = 0;
  *more = false;
  return locked([&] {
    // The expiry tree's first head is the soonest: each removal visits one
    // expired key and nothing else.
    while (!root.expiries.empty() && root.expiries.begin()->expires_at_ms <= now) {
      if (*removed == max_keys) {
        *more = true;
        break;
      }
      Node* node = Node::of_expiry(&*root.expiries.begin());
      Ref* link = nullptr;
      if (index.find(node->key(), node->hash, &link) != node) {
        // Cannot happen while the map, index and tree agree; stop rather
        // than loop on a head that cannot be removed.
        return Status::corrupt("expiry tree and index disagree");
      }
      unlink_node(root, index, manager, link, node);  // a change per key: readers wait for one at most
      ++root.expired_total;
      ++*removed;
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
    const bool expired = node->expires() && node->expired(now_ms());
    unlink_node(root, index, manager, link, node);
    if (!expired) return Status::ok();
    ++root.expired_total;  // it was gone already (shmkv-protocol(7), Expiry)
    return Status::not_found();
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
    std::int64_t now = -1;  // read once, and only when a key has an expiry
    for (; it != root.map.end(); ++it) {
      const std::string_view key = it->key();
      if (key.substr(0, prefix.size()) != prefix) break;
      if (it->expires()) {  // expired keys do not exist; the sweep removes them
        if (now < 0) now = now_ms();
        if (it->expired(now)) continue;
      }
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

Status Store::scan_buckets(std::uint32_t cursor, std::size_t count, Page* page, std::uint32_t* next) {
  Root& root = *segment_->root;
  page->keys.clear();
  page->more = false;
  return locked([&] {
    const IndexView index(root.index, segment_->memory.get_segment_manager());
    std::int64_t now = -1;  // read once, and only when a key has an expiry
    const auto take = [&](const Node& n) {
      if (n.expires()) {  // expired keys do not exist; the sweep removes them
        if (now < 0) now = now_ms();
        if (n.expired(now)) return;
      }
      page->keys.emplace_back(n.key());
    };
    // Redis's bound on the buckets a call walks, 10 * count, and at least as
    // many as a new index has, so that a small store is scanned in one call
    // as Redis's small table is: an empty bucket costs a load.
    count = std::max<std::size_t>(count, 1);
    std::size_t buckets_left = count > SIZE_MAX / 10 ? SIZE_MAX : std::max<std::size_t>(10 * count, kInitialBuckets);
    do {
      cursor = index.scan_step(cursor, take);
    } while (cursor != 0 && --buckets_left > 0 && page->keys.size() < count);
    *next = cursor;
    page->more = cursor != 0;
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
    c.keys_with_ttl = segment_->root->expiries.size();
    c.expired_total = segment_->root->expired_total;
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

// cpu_relax tells the CPU that this is a spin loop (x86 pause, Arm yield).
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// try_lock_spinning tries the lock a few times, a pause apart, before the
// caller sleeps for it: a holder on the other CPU lets go within a few
// microseconds (one change, or one batch of lookups), where sleeping costs
// a futex wait, a wake-up and two context switches. The bound (about 5 us)
// caps what a holder that was descheduled costs its waiters in spinning.
// (glibc's robust mutexes do not spin by themselves.)
bool try_lock_spinning(bi::interprocess_mutex& mutex) {
  constexpr int kTries = 64;
  for (int i = 0; i < kTries; ++i) {
    if (mutex.try_lock()) return true;
    for (int j = 0; j < 4; ++j) cpu_relax();
  }
  return false;
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
    if (!try_lock_spinning(mutex)) {
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

void Store::still_holding() {
  if (watch_.held_since) watch_.held_since->store(monotonic_ms(), std::memory_order_relaxed);
}

void Store::unlock() {
  if (watch_.held_since) watch_.held_since->store(0, std::memory_order_relaxed);
  segment_->root->mutex.unlock();
}

}  // namespace shmkv::store
