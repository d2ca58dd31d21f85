#include "store/snapshot.hpp"

#include "common/directories.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <new>
#include <random>

namespace shmkv::snapshot {
namespace {

constexpr char kMagic[8] = {'S', 'H', 'M', 'K', 'V', 'S', 'N', 'P'};
constexpr char kEndMagic[8] = {'S', 'H', 'M', 'K', 'V', 'E', 'N', 'D'};
constexpr std::size_t kBufferSize = std::size_t(1) << 20;

void put_u32(char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
void put_u64(char* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
std::uint32_t get_u32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
std::uint64_t get_u64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string directory_of(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_of(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Status write_all(int fd, const char* data, std::size_t size, const std::string& what) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::io(errno_text("write " + what, errno));
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return Status::ok();
}

// fsync_directory makes a rename in dir durable.
Status fsync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::io(errno_text("open directory " + dir, errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc < 0) return Status::io(errno_text("fsync directory " + dir, err));
  return Status::ok();
}

}  // namespace

std::string temp_prefix(const std::string& path) { return "." + base_of(path) + ".tmp-"; }

struct Writer::Hash {
  XXH3_state_t* state = XXH3_createState();
  ~Hash() { XXH3_freeState(state); }
};

Status Writer::open(const std::string& path, std::uint64_t records, std::unique_ptr<Writer>* out, pid_t owner) {
  std::unique_ptr<Writer> w(new Writer);
  w->path_ = path;
  w->expected_ = records;
  w->hash_ = std::make_unique<Hash>();
  if (!w->hash_->state || XXH3_64bits_reset(w->hash_->state) != XXH_OK)
    return Status::io(fmt::format("snapshot {}: no memory for its checksum", path));
  // A name no other writer uses (the owner's pid and a random number),
  // created exclusively and never through a planted symlink.
  std::random_device random;
  for (int attempt = 0;; ++attempt) {
    w->temp_path_ = fmt::format("{}/{}{}.{:08x}", directory_of(path), temp_prefix(path), owner ? owner : getpid(),
                                random());
    w->fd_ = ::open(w->temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (w->fd_ >= 0) break;
    if (errno != EEXIST || attempt == 8) return Status::io(errno_text("create " + w->temp_path_, errno));
  }
  w->buffer_.reserve(kBufferSize);
  char header[kHeaderSize] = {};
  std::memcpy(header, kMagic, 8);
  put_u32(header + 8, kFormatVersion);
  put_u32(header + 12, 0);  // flags: none defined
  put_u64(header + 16, records);
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  put_u64(header + 24, static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count()));
  if (Status s = w->append(header, sizeof header); !s) return s;
  *out = std::move(w);
  return Status::ok();
}

Writer::~Writer() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temp_path_.c_str());
  }
}

Status Writer::append(const void* data, std::size_t size) {
  XXH3_64bits_update(hash_->state, data, size);
  bytes_ += size;
  if (buffer_.size() + size > kBufferSize) {
    if (Status s = flush(); !s) return s;
    if (size > kBufferSize) return write_all(fd_, static_cast<const char*>(data), size, temp_path_);
  }
  buffer_.append(static_cast<const char*>(data), size);
  return Status::ok();
}

Status Writer::flush() {
  Status s = write_all(fd_, buffer_.data(), buffer_.size(), temp_path_);
  buffer_.clear();
  return s;
}

Status Writer::add(const Record& r) {
  if (written_ == expected_)
    return Status::invalid(fmt::format("snapshot {}: more records than the {} announced", path_, expected_));
  if (r.key.size() > kMaxKeySize || r.value.size() > kMaxValueSize)
    return Status::invalid(fmt::format("snapshot {}: a record is larger than a snapshot may hold", path_));
  char header[kRecordHeaderSize];
  put_u32(header, static_cast<std::uint32_t>(r.key.size()));
  put_u32(header + 4, static_cast<std::uint32_t>(r.value.size()));
  header[8] = static_cast<char>(r.kind);
  put_u64(header + 9, r.expires_ms);
  if (Status s = append(header, sizeof header); !s) return s;
  if (Status s = append(r.key.data(), r.key.size()); !s) return s;
  if (Status s = append(r.value.data(), r.value.size()); !s) return s;
  ++written_;
  return Status::ok();
}

Status Writer::commit(std::uint64_t* bytes) {
  if (written_ != expected_)
    return Status::invalid(fmt::format("snapshot {}: {} records written of {}", path_, written_, expected_));
  if (Status s = append(kEndMagic, sizeof kEndMagic); !s) return s;  // the checksum covers it too
  char checksum[8];
  put_u64(checksum, XXH3_64bits_digest(hash_->state));
  buffer_.append(checksum, sizeof checksum);
  bytes_ += sizeof checksum;
  if (Status s = flush(); !s) return s;
  // The data must be on disk before the rename makes it the snapshot, or a
  // crash could leave a renamed file of zeros.
  if (::fsync(fd_) < 0) return Status::io(errno_text("fsync " + temp_path_, errno));
  if (::close(fd_) < 0) {
    fd_ = -1;
    ::unlink(temp_path_.c_str());
    return Status::io(errno_text("close " + temp_path_, errno));
  }
  fd_ = -1;
  if (::rename(temp_path_.c_str(), path_.c_str()) < 0) {
    const int err = errno;
    ::unlink(temp_path_.c_str());
    return Status::io(errno_text("rename " + temp_path_ + " to " + path_, err));
  }
  if (Status s = fsync_directory(directory_of(path_)); !s) return s;
  *bytes = bytes_;
  return Status::ok();
}

namespace {

// untrusted says what is wrong with an opened snapshot that shmkvd would not
// have written: not a regular file, another user's, or open to others'
// writes; empty when nothing is.
std::string untrusted(const struct stat& st) {
  if (!S_ISREG(st.st_mode)) return "it is not a regular file";
  if (st.st_uid != geteuid())
    return fmt::format("it belongs to uid {}, not to shmkvd's uid {}; chown it if you trust what is in it",
                       st.st_uid, geteuid());
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    return fmt::format("its mode {:04o} lets other users write it; chmod it 0600 if you trust what is in it",
                       st.st_mode & 07777);
  return {};
}

}  // namespace

Status File::read(const std::string& path, File* out, std::uint64_t max_bytes) {
  // O_NONBLOCK: a FIFO planted at the path must not hold the start up.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::not_found(fmt::format("no snapshot {}", path));
    return Status::io(errno_text("open snapshot " + path, errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) < 0) {
    const int err = errno;
    ::close(fd);
    return Status::io(errno_text("stat snapshot " + path, err));
  }
  if (const std::string why = untrusted(st); !why.empty()) {
    ::close(fd);
    return Status::corrupt(fmt::format("snapshot {} is not one shmkvd wrote: {}", path, why));
  }
  if (max_bytes > 0 && static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    // Not kCorrupt: the file may be good, and must not be moved aside.
    return Status::invalid(fmt::format("snapshot {} is {} bytes, more than a store of {} bytes can hold; give a "
                                       "larger --memory",
                                       path, st.st_size, max_bytes));
  }
  std::string bytes;
  try {
    bytes.resize(static_cast<std::size_t>(st.st_size));
  } catch (const std::exception&) {
    ::close(fd);
    return Status::io(fmt::format("snapshot {}: no memory to read its {} bytes", path, st.st_size));
  }
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return Status::io(errno_text("read snapshot " + path, err));
    }
    if (n == 0) break;  // shrank while we read: check() calls it truncated
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  bytes.resize(got);
  return check(std::move(bytes), path, out);
}

Status File::check(std::string bytes, const std::string& name, File* out) {
  auto damaged = [&](const std::string& what) {
    return Status::corrupt(fmt::format("snapshot {} is damaged: {}", name, what));
  };
  if (bytes.size() < kHeaderSize + kTrailerSize)
    return damaged(fmt::format("{} bytes, shorter than an empty snapshot (truncated?)", bytes.size()));
  const char* p = bytes.data();
  if (std::memcmp(p, kMagic, 8) != 0) return damaged("it does not begin as a shmkv snapshot does");
  const std::uint32_t version = get_u32(p + 8);
  if (version != kFormatVersion)
    return Status::corrupt(fmt::format("snapshot {} has format version {}; this shmkvd reads version {}", name,
                                       version, kFormatVersion));
  const char* trailer = p + bytes.size() - kTrailerSize;
  if (std::memcmp(trailer, kEndMagic, 8) != 0) return damaged("it has no end marker (truncated?)");
  if (XXH3_64bits(p, bytes.size() - 8) != get_u64(trailer + 8)) return damaged("its checksum does not match");
  const std::uint64_t count = get_u64(p + 16);
  // Check every record's bounds now, so that next() cannot fail halfway.
  const std::size_t end = bytes.size() - kTrailerSize;
  std::size_t at = kHeaderSize;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (end - at < kRecordHeaderSize) return damaged(fmt::format("record {} of {} is cut short", i, count));
    const std::uint32_t key_size = get_u32(p + at);
    const std::uint32_t value_size = get_u32(p + at + 4);
    const auto kind = static_cast<std::uint8_t>(p[at + 8]);
    if (key_size > kMaxKeySize || value_size > kMaxValueSize)
      return damaged(fmt::format("record {} claims a key of {} bytes and a value of {}", i, key_size, value_size));
    if (kind > static_cast<std::uint8_t>(Kind::kBytes)) return damaged(fmt::format("record {} has kind {}", i, kind));
    at += kRecordHeaderSize;
    if (std::uint64_t(key_size) + value_size > end - at) return damaged(fmt::format("record {} runs past the end", i));
    at += key_size + value_size;
  }
  if (at != end) return damaged(fmt::format("{} bytes follow its {} records", end - at, count));
  out->bytes_ = std::move(bytes);
  out->count_ = count;
  out->created_ms_ = get_u64(out->bytes_.data() + 24);
  out->at_ = kHeaderSize;
  out->read_ = 0;
  return Status::ok();
}

bool File::next(Record* r) {
  if (read_ == count_) return false;
  const char* p = bytes_.data() + at_;
  const std::uint32_t key_size = get_u32(p);
  const std::uint32_t value_size = get_u32(p + 4);
  r->kind = static_cast<Kind>(p[8]);
  r->expires_ms = get_u64(p + 9);
  r->key = std::string_view(p + kRecordHeaderSize, key_size);
  r->value = std::string_view(p + kRecordHeaderSize + key_size, value_size);
  at_ += kRecordHeaderSize + key_size + value_size;
  ++read_;
  return true;
}

Status remove_temporaries(const std::string& path, int* removed, pid_t owner) {
  *removed = 0;
  const std::string dir = directory_of(path);
  const std::string prefix = owner ? fmt::format("{}{}.", temp_prefix(path), owner) : temp_prefix(path);
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) return Status::ok();  // the write will say so
    return Status::io(errno_text("open directory " + dir, errno));
  }
  Status result;
  while (dirent* e = ::readdir(d)) {
    if (std::strncmp(e->d_name, prefix.c_str(), prefix.size()) != 0) continue;
    const std::string victim = dir + "/" + e->d_name;
    if (::unlink(victim.c_str()) < 0) result = Status::io(errno_text("remove " + victim, errno));
    else ++*removed;
  }
  ::closedir(d);
  return result;
}

Status check_directory(const std::string& path) {
  // A directory not there yet is the first save's to report.
  return directories::check_closed("snapshot", path, directory_of(path),
                                   "give a path in a directory only shmkvd's user may write", true);
}

}  // namespace shmkv::snapshot
