// shmkv::local::Reader (include/shmkv/local.hpp): Segment's results as
// Status values, with messages that say what to do.
#include <cerrno>
#include <cstring>
#include <new>

#include "local/segment.hpp"
#include "shmkv/local.hpp"

namespace shmkv::local {

Reader::~Reader() = default;

std::int64_t Reader::now_ms() const { return clock_ ? clock_() : kWallClock; }

Status Reader::fail(int err, std::string_view what) {
  errno_ = err;
  std::string name;  // with control bytes as \xNN, so that the message stays one line
  for (const char c : segment_ ? segment_->name() : std::string(what)) {
    static constexpr char kHex[] = "0123456789abcdef";
    const auto b = static_cast<unsigned char>(c);
    if (b >= 0x20 && b != 0x7f) name += c;
    else name += {'\\', 'x', kHex[b >> 4], kHex[b & 15]};
  }
  const std::string path = "/dev/shm/" + name;
  switch (err) {
    case ENOENT:
      return Status::not_found("no shared memory segment " + path + ": is shmkvd --name " + name + " running?");
    case EACCES:
    case EPERM:
      return Status::io("shared memory segment " + path + ": " + std::strerror(err) +
                        ": its mode and group (shmkvd --segment-mode, --segment-group) must let this user read it");
    case EINVAL:
      return Status::invalid("bad segment name \"" + name + "\": a name as shmkvd --name takes, without a slash");
    case EPROTO:
      return Status::corrupt("shared memory segment " + path +
                             " holds no shmkv store this reader can read (another shmkv version or format?)");
    case EIO:
      return Status::corrupt("shared memory segment " + path + " is damaged: shmkvd will salvage it, retry");
    case EBUSY:
      return Status::busy("store " + name + " kept changing through every retry: busy, retry");
    default:
      return Status::io("shared memory segment " + path + ": " + std::strerror(err));
  }
}

Status Reader::open(const std::string& name, std::unique_ptr<Reader>* out) {
  std::unique_ptr<Reader> reader(new Reader);
  if (const int err = Segment::open(name, &reader->segment_); err != 0) return reader->fail(err, name);
  *out = std::move(reader);
  return Status::ok();
}

// A read copies lengths it has not yet found stable, so a torn one may ask
// for more memory than there is: that is ENOMEM, not an exception.
Status Reader::get(std::string_view key, std::string* value, Kind* kind) {
  int k = 0;
  int r = 0;
  try {
    r = segment_->get(key, now_ms(), &scratch_, &k);
  } catch (const std::bad_alloc&) {
    r = -ENOMEM;
  }
  if (r < 0) return fail(-r, {});
  errno_ = 0;
  if (r == kNotFound) return Status::not_found();
  value->swap(scratch_);  // the caller's old string is the next get's scratch
  if (kind) *kind = static_cast<Kind>(k);
  return Status::ok();
}

Status Reader::keys(std::string_view prefix, std::vector<std::string>* out) {
  int r = 0;
  try {
    r = segment_->keys(prefix, now_ms(), out);
  } catch (const std::bad_alloc&) {
    r = -ENOMEM;
  }
  if (r < 0) return fail(-r, {});
  errno_ = 0;
  return Status::ok();
}

}  // namespace shmkv::local
