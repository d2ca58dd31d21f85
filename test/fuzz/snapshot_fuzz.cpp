// libFuzzer target for the snapshot reader (src/store/snapshot.cpp): any bytes
// are checked as a snapshot file, and a file that passes must hand out exactly
// its count of records, each inside the file. The input's checksum is set
// right before the check half the time, so that the fuzzer reaches the
// header's and the records' bounds rather than stopping at the checksum.
// Built by `make fuzz`.
#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "store/snapshot.hpp"

using namespace shmkv;

namespace {

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "snapshot_fuzz: invariant broken: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte chooses: 1 fixes the end marker and checksum up.
  const bool fix = data[0] & 1;
  std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  if (fix && bytes.size() >= snapshot::kHeaderSize + snapshot::kTrailerSize) {
    char* trailer = bytes.data() + bytes.size() - snapshot::kTrailerSize;
    std::memcpy(trailer, "SHMKVEND", 8);
    const std::uint64_t sum = XXH3_64bits(bytes.data(), bytes.size() - 8);
    for (int i = 0; i < 8; ++i) trailer[8 + i] = static_cast<char>(sum >> (8 * i));
  }
  const std::size_t length = bytes.size();
  snapshot::File file;
  if (!snapshot::File::check(std::move(bytes), "fuzz", &file)) return 0;
  snapshot::Record r;
  std::uint64_t n = 0;
  std::size_t payload = 0;
  while (file.next(&r)) {
    ++n;
    payload += snapshot::kRecordHeaderSize + r.key.size() + r.value.size();
    require(r.kind == snapshot::Kind::kJson || r.kind == snapshot::Kind::kBytes, "a known kind");
  }
  require(n == file.count(), "as many records as counted");
  require(payload + snapshot::kHeaderSize + snapshot::kTrailerSize == length, "records fill the file");
  return 0;
}
