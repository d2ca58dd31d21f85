// A store's segment as a local reader maps it: opened by name read-only,
// never locked, never written, and opened again when a salvage retires it.
// The C ABI (local_c.cpp) and the C++ Reader (reader.cpp) read through it.
#pragma once

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
  // EINVAL: a bad name; EPROTO: not a shmkv store of this format).
  static int open(const std::string& name, std::unique_ptr<Segment>* out);
  ~Segment();
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  const std::string& name() const { return name_; }

  // get and keys are Image's, on the segment mapped now: when a salvage
  // has retired it they open the name again and read the fresh one; an
  // error of that open is returned as -errno.
  int get(std::string_view key, std::int64_t now_ms, std::string* value, int* kind);
  int keys(std::string_view prefix, std::int64_t now_ms, std::vector<std::string>* out);

 private:
  Segment(std::string name, const char* base, std::size_t size) : name_(std::move(name)), base_(base), size_(size),
                                                                   image_(base, size) {}
  int reopen();

  std::string name_;
  const char* base_;
  std::size_t size_;
  Image image_;
};

}  // namespace shmkv::local
