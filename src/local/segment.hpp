// A store's segment as a local reader maps it: opened by name read-only,
// never locked, never written, and opened again when a salvage retires it.
// The C ABI (local_c.cpp) and the C++ Reader (reader.cpp) read through it.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "local/image.hpp"

namespace shmkv::local {

class Segment {
 public:
  // open maps /dev/shm/NAME with PROT_READ from an O_RDONLY open: 0, or an
  // errno value (ENOENT: no such segment; EACCES: its mode refuses us;
  // EPERM: not a regular file, or a mode that lets users other than its
  // owner write it, so that its keys cannot be trusted (trusted()); EINVAL:
  // a bad name (valid_name()); EPROTO: not a shmkv store of this format).
  static int open(const std::string& name, std::unique_ptr<Segment>* out);

  // valid_name says whether name can name a segment: 1 to NAME_MAX (255)
  // bytes, the most a file in /dev/shm may have, without a slash.
  static bool valid_name(const std::string& name);

  // trusted says whether a segment of this type and mode can hold only what
  // its owner wrote: a regular file without the group and other write bits,
  // as shmkvd makes every segment (0600, or 0640, 0604, 0644 with
  // --segment-mode). Who the owner is cannot be checked: readers are often
  // other users than shmkvd's, and only the owner can chmod it.
  static bool trusted(mode_t mode) { return S_ISREG(mode) && (mode & (S_IWGRP | S_IWOTH)) == 0; }
  ~Segment();
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  const std::string& name() const { return name_; }

  // get and keys are Image's, on the segment mapped now: when a salvage
  // has retired it they open the name again and read the fresh one; an
  // error of that open is returned as -errno. A store that stays busy (a
  // sequence left odd, or a retired mark that no salvage follows) with no
  // shmkvd holding its claim on the file (Store::claim's flock) is
  // -EOWNERDEAD: its last writer died in a change and nothing will recover
  // it until a shmkvd starts on it.
  int get(std::string_view key, std::int64_t now_ms, std::string* value, int* kind);
  int keys(std::string_view prefix, std::int64_t now_ms, std::vector<std::string>* out);

 private:
  Segment(std::string name, const char* base, std::size_t size, dev_t dev, ino_t ino)
      : name_(std::move(name)), base_(base), size_(size), dev_(dev), ino_(ino), image_(base, size) {}
  int reopen();
  int busy_or_dead() const;

  std::string name_;
  const char* base_;
  std::size_t size_;
  dev_t dev_;  // the mapped file's, to find shmkvd's flock on it
  ino_t ino_;
  Image image_;
};

}  // namespace shmkv::local
