#include "local/segment.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace shmkv::local {

namespace {

// The largest store (store.hpp, kMaximumSize): a larger file is no store.
constexpr std::size_t kMaximumSize = std::size_t(32) << 30;

}  // namespace

int Segment::open(const std::string& name, std::unique_ptr<Segment>* out) {
  if (name.empty() || name.size() > 200 || name.find('/') != std::string::npos || name == "." || name == "..")
    return EINVAL;
  // O_NONBLOCK: a FIFO planted under the name must not hang the open
  // (shm_open adds O_NOFOLLOW); what is not a regular file is refused below.
  const int fd = shm_open(("/" + name).c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
  if (fd < 0) return errno;
  struct stat st {};
  if (fstat(fd, &st) < 0) {
    const int err = errno;
    ::close(fd);
    return err;
  }
  if (!S_ISREG(st.st_mode) || st.st_size <= 0 || std::size_t(st.st_size) > kMaximumSize) {
    ::close(fd);
    return EPROTO;
  }
  const std::size_t size = std::size_t(st.st_size);
  void* base = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  const int err = errno;
  ::close(fd);  // the mapping keeps the segment
  if (base == MAP_FAILED) return err;
  std::unique_ptr<Segment> segment(new Segment(name, static_cast<const char*>(base), size));
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
  image_ = fresh->image_;
  fresh->base_ = nullptr;  // now ours
  fresh->size_ = 0;
  return 0;
}

int Segment::get(std::string_view key, std::int64_t now_ms, std::string* value, int* kind) {
  // A salvage replaces the segment once per crash: two reopens in one call
  // mean the name changes under us faster than we can read it.
  for (int reopens = 0;; ++reopens) {
    const int r = image_.get(key, now_ms, value, kind);
    if (r != kRetired) return r;
    if (reopens == 2) return -EBUSY;
    if (const int err = reopen(); err != 0) return err;
  }
}

int Segment::keys(std::string_view prefix, std::int64_t now_ms, std::vector<std::string>* out) {
  for (int reopens = 0;; ++reopens) {
    const int r = image_.keys(prefix, now_ms, out);
    if (r != kRetired) return r;
    if (reopens == 2) return -EBUSY;
    if (const int err = reopen(); err != 0) return err;
  }
}

}  // namespace shmkv::local
