// Framing of the wire protocol (shmkv-protocol(7), Framing): the 8-byte little-endian
// header (version, length) in front of every message, in both directions.
// Used by the daemon's connection loop and by the client library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace shmkv::frame {

inline constexpr std::size_t kHeaderSize = 8;
inline constexpr std::int32_t kVersionOneShot = 1;     // one request, then close
inline constexpr std::int32_t kVersionPersistent = 2;  // many requests per connection
inline constexpr std::size_t kDefaultMaxMessage = 1 << 20;

struct Header {
  std::int32_t version = 0;
  std::int32_t length = 0;
};

// read_header reads the kHeaderSize bytes at in, unchecked.
Header read_header(const char* in);

// What decode() found at the front of a buffer.
enum class Decoded {
  kNeedMore,   // not a whole message yet: read more
  kMessage,    // a whole message: version, body and consumed are set
  kBadHeader,  // framing cannot be trusted: reply with error, then close
};

struct DecodeResult {
  Decoded what = Decoded::kNeedMore;
  std::int32_t version = kVersionOneShot;  // the version to answer with
  std::string_view body;                   // points into the decoded buffer
  std::size_t consumed = 0;                // header plus body bytes
  std::string error;                       // set for kBadHeader
};

// decode looks at the bytes buffered so far and reports the first message in them.
// A header with a bad version or a length that is negative or above max_message
// is reported as soon as the header is complete, without waiting for a body.
DecodeResult decode(std::string_view buffered, std::size_t max_message);

// truncated_version is the version to answer a message cut short by end of
// stream: the header's when its version field arrived and is valid, else 1.
std::int32_t truncated_version(std::string_view buffered);

// begin appends a header with a zero length to out and returns its offset;
// finish fills in the length of everything appended since.
std::size_t begin(std::string& out, std::int32_t version);
void finish(std::string& out, std::size_t header_offset);

// append appends a whole message (header and body) to out.
void append(std::string& out, std::int32_t version, std::string_view body);

}  // namespace shmkv::frame
