// Local readers' C++ API (libshmkv.so, or libshmkv.a): GET and KEYS straight
// from the segment of the shmkvd on this host, read-only and without its lock
// (shmkv-protocol(7), Local readers). local.h is the same for C.
//
// What the Status of a call means:
//   ok         done.
//   kNotFound  open: no such segment; get: the key is absent or expired.
//   kInvalid   open: not a segment name (empty, longer than 255 bytes, or
//              with a slash).
//   kCorrupt   open: the segment holds no store of this shmkv's format;
//              get, keys: it is damaged (EIO), or its last writer died
//              inside a change and no shmkvd serves it (EOWNERDEAD).
//   kBusy      get, keys: writers kept changing the store through every retry.
//   kIo        anything else the system refused: EACCES when the segment's
//              mode or group does not let this user read it, EPERM when it
//              is not a regular file or users other than its owner may
//              write it (error_number() gives the errno value of every
//              failure).
// A Reader is for one thread at a time; open one per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "shmkv/local.h"
#include "shmkv/status.hpp"

namespace shmkv::local {

class Segment;

enum class Kind : int { kJson = SHMKV_JSON, kBytes = SHMKV_BYTES };

class SHMKV_EXPORT Reader {
 public:
  // open maps the segment of `shmkvd --name NAME`.
  static Status open(const std::string& name, std::unique_ptr<Reader>* out);
  ~Reader();

  // get copies key's stored bytes into *value and their kind into *kind
  // (when given); not found leaves *value unchanged.
  Status get(std::string_view key, std::string* value, Kind* kind = nullptr);

  // keys lists the keys that start with prefix, sorted, expired ones left
  // out. Writers go on meanwhile: a key present throughout is listed.
  Status keys(std::string_view prefix, std::vector<std::string>* out);

  // name is the segment's name, as given to open.
  const std::string& name() const;

  // errno is the errno value behind the last failure (0 after success).
  int error_number() const { return errno_; }

  // set_clock replaces the wall clock (Unix milliseconds) that expiries are
  // checked against (tests).
  void set_clock(std::function<std::int64_t()> clock) { clock_ = std::move(clock); }

 private:
  Reader() = default;
  Status fail(int err, std::string_view what);
  std::int64_t now_ms() const;

  std::unique_ptr<Segment> segment_;
  std::string scratch_;  // what get copies into; swapped into the caller's string when found
  std::function<std::int64_t()> clock_;
  int errno_ = 0;
};

}  // namespace shmkv::local
