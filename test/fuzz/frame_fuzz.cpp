// libFuzzer target for the frame decoder (src/protocol/frame.cpp): arbitrary bytes are
// decoded message after message, as the connection loop does with what it has
// read, under several maximum message sizes, and every result is checked
// against the contract in frame.hpp. Built by `make fuzz`.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/frame.hpp"

using namespace shmkv;

namespace {

// require aborts with a message, so that libFuzzer reports the input.
void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "frame_fuzz: invariant broken: %s\n", what);
  std::abort();
}

bool known_version(std::int32_t v) { return v == frame::kVersionOneShot || v == frame::kVersionPersistent; }

// check_one checks one decode() of buffered against the header it starts with.
void check_one(std::string_view buffered, std::size_t max_message, const frame::DecodeResult& r) {
  require(r.consumed <= buffered.size(), "consumed <= size");
  // truncated_version is the version field's, once its 4 bytes are there
  // and it is valid, else 1.
  const std::int32_t truncated = frame::truncated_version(buffered);
  std::int32_t field = frame::kVersionOneShot;
  if (buffered.size() >= 4) {
    const std::string whole = std::string(buffered.substr(0, 4)) + std::string(4, '\0');
    field = frame::read_header(whole.data()).version;
  }
  require(truncated == (known_version(field) ? field : frame::kVersionOneShot),
          "truncated_version is the version field's when valid, else 1");
  switch (r.what) {
    case frame::Decoded::kNeedMore: {
      require(r.consumed == 0 && r.body.empty(), "kNeedMore consumes nothing");
      if (buffered.size() < frame::kHeaderSize) return;
      const frame::Header h = frame::read_header(buffered.data());
      require(known_version(h.version) && h.length >= 0, "kNeedMore only behind a valid header");
      require(std::size_t(h.length) <= max_message, "kNeedMore only within max_message");
      require(buffered.size() - frame::kHeaderSize < std::size_t(h.length), "kNeedMore only when short");
      return;
    }
    case frame::Decoded::kMessage: {
      require(buffered.size() >= frame::kHeaderSize, "kMessage has a header");
      const frame::Header h = frame::read_header(buffered.data());
      require(known_version(r.version) && r.version == h.version, "kMessage version is the header's");
      require(r.body.data() == buffered.data() + frame::kHeaderSize, "body follows the header");
      require(h.length >= 0 && r.body.size() == std::size_t(h.length), "body has the header's length");
      require(r.body.size() <= max_message, "body within max_message");
      require(r.consumed == frame::kHeaderSize + r.body.size(), "consumed is header plus body");
      require(r.body.data() + r.body.size() <= buffered.data() + buffered.size(), "body within buffer");
      require(r.error.empty(), "kMessage has no error");
      // One byte less is not a whole message yet.
      const frame::DecodeResult shorter = frame::decode(buffered.substr(0, r.consumed - 1), max_message);
      require(shorter.what == frame::Decoded::kNeedMore, "a cut message needs more");
      return;
    }
    case frame::Decoded::kBadHeader: {
      require(buffered.size() >= frame::kHeaderSize, "kBadHeader only with a header present");
      const frame::Header h = frame::read_header(buffered.data());
      require(!known_version(h.version) || h.length < 0 || std::size_t(h.length) > max_message,
              "kBadHeader only for a bad header");
      require(known_version(r.version), "kBadHeader answers with version 1 or 2");
      require(!r.error.empty(), "kBadHeader has an error message");
      require(r.consumed == 0 && r.body.empty(), "kBadHeader consumes nothing");
      return;
    }
  }
  require(false, "decode returned an unknown Decoded value");
}

// decode_all consumes buffered message after message until it needs more
// bytes or meets a bad header, as a connection does; each message is encoded
// again with append() and must come back as it was.
void decode_all(std::string_view buffered, std::size_t max_message) {
  while (true) {
    const frame::DecodeResult r = frame::decode(buffered, max_message);
    check_one(buffered, max_message, r);
    if (r.what != frame::Decoded::kMessage) return;
    std::string again;
    frame::append(again, r.version, r.body);
    require(again == buffered.substr(0, r.consumed), "append() re-encodes a decoded message exactly");
    buffered.remove_prefix(r.consumed);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (std::size_t max_message : {std::size_t(0), std::size_t(1), std::size_t(16), std::size_t(1000),
                                  frame::kDefaultMaxMessage, SIZE_MAX})
    decode_all(input, max_message);
  return 0;
}
