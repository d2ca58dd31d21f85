#include "protocol/frame.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace shmkv;

namespace {

std::string message(std::int32_t version, std::string_view body) {
  std::string out;
  frame::append(out, version, body);
  return out;
}

std::string raw_header(std::int32_t version, std::int32_t length) {
  std::string out(8, '\0');
  for (int i = 0; i < 4; ++i) {
    out[i] = static_cast<char>((static_cast<std::uint32_t>(version) >> (8 * i)) & 0xff);
    out[4 + i] = static_cast<char>((static_cast<std::uint32_t>(length) >> (8 * i)) & 0xff);
  }
  return out;
}

}  // namespace

TEST_CASE("frame: the header is two little-endian 32-bit integers") {
  const std::string m = message(1, "abc");
  CHECK(m == std::string("\x01\x00\x00\x00\x03\x00\x00\x00" "abc", 11));
  const frame::Header h = frame::read_header(m.data());
  CHECK(h.version == 1);
  CHECK(h.length == 3);
}

TEST_CASE("frame: a message split across reads is whole only at its last byte") {
  const std::string m = message(2, R"({"func": "GET", "params": {"obj": "k"}})");
  for (std::size_t cut = 0; cut < m.size(); ++cut) {
    CAPTURE(cut);
    CHECK(frame::decode(std::string_view(m).substr(0, cut), 1024).what == frame::Decoded::kNeedMore);
  }
  const frame::DecodeResult r = frame::decode(m, 1024);
  REQUIRE(r.what == frame::Decoded::kMessage);
  CHECK(r.version == 2);
  CHECK(r.body == R"({"func": "GET", "params": {"obj": "k"}})");
  CHECK(r.consumed == m.size());
}

TEST_CASE("frame: several messages in one buffer come out one at a time") {
  const std::string both = message(2, "first") + message(1, "second!");
  frame::DecodeResult a = frame::decode(both, 1024);
  REQUIRE(a.what == frame::Decoded::kMessage);
  CHECK(a.body == "first");
  frame::DecodeResult b = frame::decode(std::string_view(both).substr(a.consumed), 1024);
  REQUIRE(b.what == frame::Decoded::kMessage);
  CHECK(b.version == 1);
  CHECK(b.body == "second!");
}

TEST_CASE("frame: an empty body is a message") {
  const frame::DecodeResult r = frame::decode(message(1, ""), 1024);
  CHECK(r.what == frame::Decoded::kMessage);
  CHECK(r.body.empty());
}

TEST_CASE("frame: bad headers are reported as soon as the header is whole") {
  SUBCASE("unknown version") {
    const frame::DecodeResult r = frame::decode(raw_header(7, 2), 1024);
    CHECK(r.what == frame::Decoded::kBadHeader);
    CHECK(r.version == 1);
    CHECK(r.error == "unsupported protocol version 7 (expected 1 or 2)");
  }
  SUBCASE("negative length") {
    const frame::DecodeResult r = frame::decode(raw_header(2, -5), 1024);
    CHECK(r.what == frame::Decoded::kBadHeader);
    CHECK(r.version == 2);
    CHECK(r.error == "negative message length -5");
  }
  SUBCASE("length over the limit") {
    const frame::DecodeResult r = frame::decode(raw_header(1, 5000000), 1048576);
    CHECK(r.what == frame::Decoded::kBadHeader);
    CHECK(r.error == "message of 5000000 bytes exceeds the 1048576-byte limit");
  }
  SUBCASE("length exactly at the limit is fine") {
    CHECK(frame::decode(raw_header(1, 1024), 1024).what == frame::Decoded::kNeedMore);
  }
}

TEST_CASE("frame: a truncated message is answered in its header's version") {
  CHECK(frame::truncated_version("\x02\x00") == 1);
  CHECK(frame::truncated_version(raw_header(2, 10).substr(0, 6)) == 2);
  CHECK(frame::truncated_version(raw_header(2, 10) + "abc") == 2);
  CHECK(frame::truncated_version(raw_header(9, 10)) == 1);
}
