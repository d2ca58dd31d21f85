// shmkv::local::Reader (include/shmkv/local.hpp): Segment's results as
// Status values, with messages that say what to do.
#include <pwd.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <new>

#include "local/segment.hpp"
#include "shmkv/local.hpp"

namespace shmkv::local {

Reader::~Reader() = default;

std::int64_t Reader::now_ms() const { return clock_ ? clock_() : kWallClock; }

const std::string& Reader::name() const { return segment_->name(); }

namespace {

// libshmkv links nothing but the C++ runtime: no fmt here.
std::string user_name(uid_t uid) {
  const std::string number = "uid " + std::to_string(uid);
  const passwd* pw = getpwuid(uid);
  return pw ? pw->pw_name + (" (" + number + ")") : number;
}

std::string octal(mode_t mode) {
  char text[16];
  std::snprintf(text, sizeof text, "%04o", unsigned(mode & 07777));
  return text;
}

const char* file_type(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "a device";
}

// untrusted says what is wrong with the segment at path that Segment::open
// refused with EPERM, and what to do, as shmkvd says of a planted segment.
// The file is looked at again for its owner and mode: it may have changed
// since, and the message then shows it as it is now.
std::string untrusted(const std::string& path, const std::string& name) {
  struct stat st {};
  if (lstat(path.c_str(), &st) < 0) return "shared memory segment " + path + " changed while it was opened: retry";
  const std::string owner = "shared memory segment " + path + " belongs to " + user_name(st.st_uid) +
                            " with mode " + octal(st.st_mode);
  if (!S_ISREG(st.st_mode))
    return owner + " and is " + file_type(st.st_mode) + ", not a regular file: shmkvd never makes such a segment: " +
           "remove it (rm " + path + ") and restart shmkvd --name " + name;
  return owner +
         ": users other than its owner could have written it, so its keys are not read; shmkvd never makes "
         "such a segment (its mode is 0600, or 0640, 0604 or 0644 with --segment-mode): remove it (rm " +
         path + ") and restart shmkvd --name " + name +
         ", or, if you trust what is in it, chmod it 0600 or to shmkvd's --segment-mode";
}

}  // namespace

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
    case EPERM:
      return Status::io(untrusted(path, name));
    case EACCES:
      return Status::io("shared memory segment " + path + ": " + std::strerror(err) +
                        ": its mode and group (shmkvd --segment-mode, --segment-group) must let this user read it");
    case EINVAL:
      return Status::invalid("bad segment name \"" + name + "\": a segment name is 1 to " +
                             std::to_string(NAME_MAX) + " bytes without a slash");
    case EPROTO:
      return Status::corrupt("shared memory segment " + path +
                             " holds no shmkv store this reader can read (another shmkv version or format?)");
    case EIO:
      return Status::corrupt("shared memory segment " + path + " is damaged: shmkvd will salvage it, retry");
    case EBUSY:
      return Status::busy("store " + name + " kept changing through every retry: busy, retry");
    case EOWNERDEAD:
      return Status::corrupt("store " + name + " was left inside a change or a recovery by a writer that died, " +
                             "and no shmkvd serves it: start shmkvd --name " + name + " to recover it");
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
