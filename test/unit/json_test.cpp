#include "protocol/json.hpp"

#include <doctest/doctest.h>

#include "check_ok.hpp"

using namespace shmkv;

TEST_CASE("json::check_value accepts exactly one valid value") {
  for (const char* ok : {"1", "1.0", "-0.5e-10", "12345678901234567890123", "null", "true", "false",
                         "\"\\u2603\\\"\"", "[]", "{}", " [1, [2, {\"a\": null}]] ", "\"a\\nb\""}) {
    CAPTURE(ok);
    CHECK_OK(json::check_value(ok));
  }
}

TEST_CASE("json::check_value names what is wrong and where") {
  CHECK(json::check_value("{\"a\": 01}").message() == "malformed JSON at byte 6: bad number");
  CHECK(json::check_value("[1, 2").message().find("malformed JSON") == 0);
  CHECK(json::check_value("[1,]").message().find("malformed JSON at byte 3") == 0);
  CHECK(json::check_value("nul").message().find("malformed JSON") == 0);
  CHECK(json::check_value("").message() == "no JSON value given");
  CHECK(json::check_value("1, 2").message() == "more than one JSON value given");
  CHECK(json::check_value("{} x").message().find("malformed JSON at byte 3") == 0);
  CHECK(json::check_value("\"\xff\"").message() == "body is not valid UTF-8");
  CHECK(json::check_value("\"\\ud800\"").message().find("bad string") != std::string::npos);
  CHECK(json::check_value(std::string(2000, '[') + std::string(2000, ']')).message().find("nesting deeper") !=
        std::string::npos);
}

TEST_CASE("json::append_quoted escapes what JSON requires and passes UTF-8 through") {
  std::string out;
  json::append_quoted(out, std::string("a\"b\\c\n\t\x01 \xe2\x98\x83", 12));
  CHECK(out == "\"a\\\"b\\\\c\\n\\t\\u0001 \xe2\x98\x83\"");
  CHECK(fmt::format("{}", json::Quoted{"x"}) == "\"x\"");
}

TEST_CASE("json::append_quoted writes what Quoted formats, for every byte and mixes of runs") {
  for (int c = 0; c < 256; ++c) {
    const std::string s = std::string("ab") + static_cast<char>(c) + "cd" + static_cast<char>(c);
    std::string out = "x";
    json::append_quoted(out, s);
    CHECK(out == "x" + fmt::format("{}", json::Quoted{s}));
  }
  std::string out;
  json::append_quoted(out, "");
  CHECK(out == "\"\"");
}

TEST_CASE("json::append_quoted_ascii writes strings as Python's json.dumps does") {
  const auto ascii = [](std::string_view s) {
    std::string out;
    json::append_quoted_ascii(out, s);
    return out;
  };
  // json.dumps("caf\u00e9"), json.dumps("\u2603"), json.dumps("\U0001F600"), json.dumps("\x7f"):
  CHECK(ascii("caf\xc3\xa9") == R"("caf\u00e9")");
  CHECK(ascii("\xe2\x98\x83") == R"("\u2603")");
  CHECK(ascii("\xf0\x9f\x98\x80") == R"("\ud83d\ude00")");
  CHECK(ascii("\x7f~ ") == R"("\u007f~ ")");
  CHECK(ascii(std::string("a\"b\\c\n\r\t\b\f\x01\x1f/", 13)) == R"("a\"b\\c\n\r\t\b\f\u0001\u001f/")");
  CHECK(ascii("") == R"("")");
  // Not UTF-8 (a stray continuation byte, a cut sequence, a surrogate's
  // encoding): U+FFFD per byte that cannot start a character, never raw.
  CHECK(ascii("a\x80" "b") == R"("a\ufffdb")");
  CHECK(ascii("\xe2\x98") == R"("\ufffd\ufffd")");
  CHECK(ascii("\xed\xa0\x80") == R"("\ufffd\ufffd\ufffd")");
  CHECK(fmt::format("{}", json::AsciiQuoted{"\xc3\xa9"}) == R"("\u00e9")");
  // Every byte, alone and between runs: ASCII out, and valid JSON.
  for (int c = 0; c < 256; ++c) {
    const std::string out = ascii(std::string("ab") + static_cast<char>(c) + "cd");
    CAPTURE(c);
    for (char o : out) CHECK(static_cast<unsigned char>(o) < 0x7f);
    CHECK_OK(json::check_value(out));
  }
}

TEST_CASE("json::decode_string resolves a JSON string literal, and nothing else") {
  std::string out;
  REQUIRE_OK(json::decode_string("\"a\\nb \\u2603 \\\"\"", &out));
  CHECK(out == "a\nb \xe2\x98\x83 \"");
  CHECK(json::decode_string("1", &out).code() == Status::Code::kInvalid);
  CHECK(json::decode_string("\"a\" \"b\"", &out).code() == Status::Code::kInvalid);
  CHECK(json::decode_string("\"\\ud800\"", &out).code() == Status::Code::kInvalid);
}

TEST_CASE("json::is_utf8 accepts ASCII and UTF-8, and refuses broken sequences") {
  CHECK(json::is_utf8(""));
  CHECK(json::is_utf8("key:000000000042"));
  CHECK(json::is_utf8("caf\xc3\xa9 \xe2\x98\x83"));
  CHECK_FALSE(json::is_utf8("caf\xc3"));           // a sequence cut short at the end
  CHECK_FALSE(json::is_utf8("\xff"));              // never a UTF-8 byte
  CHECK_FALSE(json::is_utf8("a\xed\xa0\x80z"));    // a surrogate
  CHECK_FALSE(json::is_utf8(std::string(100, 'a') + "\x80"));
}
