#include "client/printable.hpp"

#include <doctest/doctest.h>

#include <string>

using shmkv::client::printable;

TEST_CASE("printable: text that is already printable is kept") {
  CHECK(printable("") == "");
  CHECK(printable("store is full") == "store is full");
  CHECK(printable("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \\ \"q\"") == "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \\ \"q\"");
}

TEST_CASE("printable: control characters become \\xNN, so the text stays one line") {
  CHECK(printable("a\nb") == "a\\x0ab");
  CHECK(printable("\r\t\x1b[31m\x07") == "\\x0d\\x09\\x1b[31m\\x07");
  CHECK(printable(std::string("a\0b", 3)) == "a\\x00b");
  CHECK(printable("\x7f") == "\\x7f");
  CHECK(printable("\xc2\x9b" "31m") == "\\xc2\\x9b31m");  // C1 CSI
}

TEST_CASE("printable: bytes that are not UTF-8 become \\xNN, one by one") {
  CHECK(printable("\xff\xfe") == "\\xff\\xfe");
  CHECK(printable("\xc3") == "\\xc3");                  // cut short
  CHECK(printable("\xc0\xaf") == "\\xc0\\xaf");          // overlong
  CHECK(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");  // a surrogate
  CHECK(printable("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");  // past U+10FFFF
  CHECK(printable("\xe2\x82" "a") == "\\xe2\\x82a");
}
