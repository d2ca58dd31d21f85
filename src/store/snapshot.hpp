// The snapshot file (shmkv-protocol(7), Snapshots): a versioned, checksummed
// stream of records {key, value, kind, expiry}, written beside its final name
// and renamed over it only once it is whole and on disk, and read back only
// after the whole file has been checked. It knows nothing of the store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <sys/types.h>

#include "shmkv/status.hpp"

namespace shmkv::snapshot {

// The file: a 32-byte header ("SHMKVSNP", format version, flags, record
// count, creation time in Unix ms), the records, and a 16-byte trailer
// ("SHMKVEND", then the XXH3-64 of every byte before the checksum). A record is
// key length (u32), value length (u32), kind (u8), expiry (u64 Unix ms, 0:
// none), then the key's and the value's bytes. Integers are little-endian.
inline constexpr std::uint32_t kFormatVersion = 1;
inline constexpr std::size_t kHeaderSize = 32;
inline constexpr std::size_t kTrailerSize = 16;
inline constexpr std::size_t kRecordHeaderSize = 17;
// Bounds a reader checks before it trusts a length: the longest key and
// value a request can carry (--max-message is at most 1G).
inline constexpr std::uint32_t kMaxKeySize = std::uint32_t(1) << 30;
inline constexpr std::uint32_t kMaxValueSize = std::uint32_t(1) << 30;

enum class Kind : std::uint8_t {
  kJson = 0,   // the value is JSON text, as PUT stored it
  kBytes = 1,  // the value is raw bytes
};

struct Record {
  std::string_view key;
  std::string_view value;
  Kind kind = Kind::kJson;
  std::uint64_t expires_ms = 0;  // Unix time in ms when the key expires; 0: never
};

// Writer writes a snapshot into a temporary file in the final file's
// directory (mode 0600, created exclusively, never through a symlink) and,
// on commit, fsyncs it, renames it over the final name and fsyncs the
// directory. Until commit succeeds the previous snapshot is untouched; a
// Writer destroyed uncommitted removes its temporary file.
class Writer {
 public:
  // open starts a snapshot of exactly `records` records for path. The
  // temporary file's name carries owner (0: this process), the process
  // that answers for the save, so that remove_temporaries can remove what
  // it left when it or its writer dies.
  static Status open(const std::string& path, std::uint64_t records, std::unique_ptr<Writer>* out,
                     pid_t owner = 0);
  ~Writer();

  // add appends a record. After an error the Writer is spent: destroy it.
  Status add(const Record& record);

  // commit checks the record count, writes the trailer and makes the file
  // the snapshot at path; *bytes is its size.
  Status commit(std::uint64_t* bytes);

  const std::string& temp_path() const { return temp_path_; }

 private:
  Writer() = default;
  Status append(const void* data, std::size_t size);
  Status flush();

  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  std::uint64_t expected_ = 0;
  std::uint64_t written_ = 0;  // records
  std::uint64_t bytes_ = 0;    // file bytes so far
  std::string buffer_;
  struct Hash;
  std::unique_ptr<Hash> hash_;
};

// File is a snapshot read into memory and checked as a whole (size, header,
// checksum, every record's bounds) before any record is handed out.
class File {
 public:
  // read reads and checks the snapshot at path. A missing file is not
  // found; anything else wrong is kCorrupt (or kIo), with a message that
  // names the file. Only a regular file of this process's user that no
  // other user may write is read, as shmkvd writes it (another's could
  // hold anything: shmkvd(8), Snapshots), and one over max_bytes (0: no
  // bound) is refused before it is read into memory.
  static Status read(const std::string& path, File* out, std::uint64_t max_bytes = 0);

  // check checks snapshot bytes already in memory; name is used in messages.
  static Status check(std::string bytes, const std::string& name, File* out);

  std::uint64_t count() const { return count_; }
  std::uint64_t created_ms() const { return created_ms_; }

  // next hands out the records in file order; false after the last. The
  // views point into this File.
  bool next(Record* record);

 private:
  std::string bytes_;
  std::uint64_t count_ = 0;
  std::uint64_t created_ms_ = 0;
  std::size_t at_ = kHeaderSize;
  std::uint64_t read_ = 0;
};

// temp_prefix is the name, within its directory, that the temporary files
// of the snapshot at path begin with.
std::string temp_prefix(const std::string& path);

// remove_temporaries removes the temporary files a crashed writer left
// beside path, those of owner's saves only when owner is not 0; *removed
// counts them. Call it only when no writer of theirs runs. An entry it
// cannot remove (a directory of that name, another user's file) is an
// error that names it, and the others are removed all the same.
Status remove_temporaries(const std::string& path, int* removed, pid_t owner = 0);

// check_directory refuses a snapshot directory that every user may write
// but that lacks the sticky bit: anyone could replace the snapshot there.
Status check_directory(const std::string& path);

}  // namespace shmkv::snapshot
