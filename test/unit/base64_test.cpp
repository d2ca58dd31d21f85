#include "protocol/base64.hpp"

#include <doctest/doctest.h>

#include "check_ok.hpp"

using namespace shmkv;

namespace {

std::string encoded(std::string_view bytes) {
  std::string out;
  base64::append_encoded(out, bytes);
  return out;
}

}  // namespace

TEST_CASE("base64 gives RFC 4648's test vectors (section 10) both ways") {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},         {"f", "Zg=="},        {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [bytes, text] : vectors) {
    CAPTURE(bytes);
    CHECK(encoded(bytes) == text);
    std::string back = "junk";
    CHECK_OK(base64::decode(text, &back));
    CHECK(back == bytes);
  }
}

TEST_CASE("base64 round-trips every byte value, and lengths 0 to 5 of them") {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  CHECK(encoded(all).substr(0, 8) == "AAECAwQF");
  for (std::size_t n = 0; n <= all.size(); n += (n < 6 ? 1 : 50)) {
    CAPTURE(n);
    std::string back;
    CHECK_OK(base64::decode(encoded(all.substr(0, n)), &back));
    CHECK(back == all.substr(0, n));
  }
  std::string back;
  CHECK_OK(base64::decode(encoded(all), &back));
  CHECK(back == all);
  CHECK(encoded("\xff\xfe\xfd") == "//79");  // the two last letters of the alphabet
}

TEST_CASE("base64 refuses every text that is not the canonical encoding") {
  for (const char* bad : {"Zg", "Zg=", "Zm9vY", "Zg===", "Z===", "====", "Zm9v\n", " Zm9v", "Zm 9v", "Zm9v-_==",
                          "Zh==", "Zm9=", "Z=g=", "=Zg=", "Zm9v====", "Zm\xc3\xa9"}) {
    CAPTURE(bad);
    std::string out;
    const Status s = base64::decode(bad, &out);
    CHECK(s.code() == Status::Code::kInvalid);
    CHECK(s.message() == "not base64 (RFC 4648: the standard alphabet, padded with =)");
  }
}
