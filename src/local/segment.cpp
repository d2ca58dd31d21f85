#include "local/segment.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace shmkv::local {

namespace {

// The largest store (store.hpp, kMaximumSize): a larger file is no store.
constexpr std::size_t kMaximumSize = std::size_t(32) << 30;

// Whether some process holds a flock on the file dev:ino: 1 yes, 0 no, -1
// unknown (no /proc/locks). shmkvd holds one on its segment for as long as
// it serves it (Store::claim), and so do its workers, which share it; the
// lock goes with the last of them. /proc/locks is read rather than the lock
// tried, which would make a shmkvd starting at that moment fail its claim.
// A line reads "1: FLOCK  ADVISORY  WRITE 26651 00:1b:112985 0 EOF"; a
// waiter's has "->" before FLOCK, and holds nothing.
int flock_held(dev_t dev, ino_t ino) {
  std::FILE* locks = std::fopen("/proc/locks", "re");
  if (!locks) return -1;
  char line[256];
  int held = 0;
  while (!held && std::fgets(line, sizeof line, locks)) {
    char type[16];
    unsigned major_id = 0, minor_id = 0;
    unsigned long inode = 0;
    if (std::sscanf(line, "%*d: %15s %*s %*s %*d %x:%x:%lu", type, &major_id, &minor_id, &inode) == 4 &&
        std::strcmp(type, "FLOCK") == 0 && makedev(major_id, minor_id) == dev && ino_t(inode) == ino)
      held = 1;
  }
  std::fclose(locks);
  return held;
}

}  // namespace

bool Segment::valid_name(const std::string& name) {
  return !name.empty() && name.size() <= NAME_MAX && name.find('/') == std::string::npos && name != "." &&
         name != "..";
}

int Segment::open(const std::string& name, std::unique_ptr<Segment>* out) {
  if (!valid_name(name)) return EINVAL;
  // O_NONBLOCK: a FIFO planted under the name must not hang the open
  // (shm_open adds O_NOFOLLOW); what is not a regular file is refused below.
  const int fd = shm_open(("/" + name).c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
  // ELOOP: the name is a symbolic link (O_NOFOLLOW), not a regular file.
  if (fd < 0) return errno == ELOOP ? EPERM : errno;
  struct stat st {};
  if (fstat(fd, &st) < 0) {
    const int err = errno;
    ::close(fd);
    return err;
  }
  // Before a byte of it is read: a segment that others could write may
  // hold anything (shmkv-protocol(7), LOCAL READERS).
  if (!trusted(st.st_mode)) {
    ::close(fd);
    return EPERM;
  }
  if (st.st_size <= 0 || std::size_t(st.st_size) > kMaximumSize) {
    ::close(fd);
    return EPROTO;
  }
  const std::size_t size = std::size_t(st.st_size);
  void* base = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  const int err = errno;
  ::close(fd);  // the mapping keeps the segment
  if (base == MAP_FAILED) return err;
  std::unique_ptr<Segment> segment(new Segment(name, static_cast<const char*>(base), size, st.st_dev, st.st_ino));
  if (const int located = segment->image_.locate(); located != 0) return located;
  *out = std::move(segment);
  return 0;
}

Segment::~Segment() {
  if (base_) munmap(const_cast<char*>(base_), size_);
}

// reopen maps the segment now under the name in this one's place.
int Segment::reopen() {
  std::unique_ptr<Segment> fresh;
  if (const int err = open(name_, &fresh); err != 0) return -err;
  munmap(const_cast<char*>(base_), size_);
  base_ = fresh->base_;
  size_ = fresh->size_;
  dev_ = fresh->dev_;
  ino_ = fresh->ino_;
  image_ = fresh->image_;
  fresh->base_ = nullptr;  // now ours
  fresh->size_ = 0;
  return 0;
}

// busy_or_dead tells a store that a live writer keeps busy (-EBUSY: retry)
// from one that no shmkvd serves any more (-EOWNERDEAD): a writer that died
// inside a change left its sequence odd, or a salvage was cut short, and
// only a shmkvd started on the segment recovers it. Without /proc/locks it
// cannot tell, and says busy.
int Segment::busy_or_dead() const { return flock_held(dev_, ino_) == 0 ? -EOWNERDEAD : -EBUSY; }

int Segment::get(std::string_view key, std::int64_t now_ms, std::string* value, int* kind) {
  // A salvage replaces the segment once per crash: two reopens in one call
  // mean the name changes under us faster than we can read it.
  for (int reopens = 0;; ++reopens) {
    const int r = image_.get(key, now_ms, value, kind);
    if (r == -EBUSY) return busy_or_dead();
    if (r != kRetired) return r;
    if (reopens == 2) return busy_or_dead();
    if (const int err = reopen(); err != 0) return err;
  }
}

int Segment::keys(std::string_view prefix, std::int64_t now_ms, std::vector<std::string>* out) {
  for (int reopens = 0;; ++reopens) {
    const int r = image_.keys(prefix, now_ms, out);
    if (r == -EBUSY) return busy_or_dead();
    if (r != kRetired) return r;
    if (reopens == 2) return busy_or_dead();
    if (const int err = reopen(); err != 0) return err;
  }
}

}  // namespace shmkv::local
