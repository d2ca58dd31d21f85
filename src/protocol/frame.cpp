#include "protocol/frame.hpp"

#include <fmt/format.h>

namespace shmkv::frame {
namespace {

void put_le32(char* out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

std::int32_t get_le32(const char* in) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= std::uint32_t(static_cast<unsigned char>(in[i])) << (8 * i);
  return static_cast<std::int32_t>(v);
}

bool known_version(std::int32_t v) { return v == kVersionOneShot || v == kVersionPersistent; }

}  // namespace

Header read_header(const char* in) { return Header{get_le32(in), get_le32(in + 4)}; }

DecodeResult decode(std::string_view buffered, std::size_t max_message) {
  DecodeResult r;
  if (buffered.size() < kHeaderSize) return r;
  const auto [version, length] = read_header(buffered.data());
  if (!known_version(version)) {
    r.what = Decoded::kBadHeader;
    r.error = fmt::format("unsupported protocol version {} (expected 1 or 2)", version);
    return r;
  }
  r.version = version;
  if (length < 0) {
    r.what = Decoded::kBadHeader;
    r.error = fmt::format("negative message length {}", length);
    return r;
  }
  if (static_cast<std::size_t>(length) > max_message) {
    r.what = Decoded::kBadHeader;
    r.error = fmt::format("message of {} bytes exceeds the {}-byte limit", length, max_message);
    return r;
  }
  if (buffered.size() - kHeaderSize < static_cast<std::size_t>(length)) return r;
  r.what = Decoded::kMessage;
  r.body = buffered.substr(kHeaderSize, static_cast<std::size_t>(length));
  r.consumed = kHeaderSize + static_cast<std::size_t>(length);
  return r;
}

std::int32_t truncated_version(std::string_view buffered) {
  if (buffered.size() < 4) return kVersionOneShot;
  const std::int32_t version = get_le32(buffered.data());
  return known_version(version) ? version : kVersionOneShot;
}

std::size_t begin(std::string& out, std::int32_t version) {
  const std::size_t offset = out.size();
  out.append(kHeaderSize, '\0');
  put_le32(out.data() + offset, static_cast<std::uint32_t>(version));
  return offset;
}

void finish(std::string& out, std::size_t header_offset) {
  const std::size_t length = out.size() - header_offset - kHeaderSize;
  put_le32(out.data() + header_offset + 4, static_cast<std::uint32_t>(length));
}

void append(std::string& out, std::int32_t version, std::string_view body) {
  const std::size_t offset = begin(out, version);
  out.append(body);
  finish(out, offset);
}

}  // namespace shmkv::frame
