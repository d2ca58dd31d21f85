// Tests of src/resp/parser.cpp: multibulk and inline requests, commands
// split across reads, and the protocol errors in Redis's words.
#include "resp/parser.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace shmkv;

namespace {

struct Result {
  resp::Parsed what;
  std::vector<std::string> args;
  std::size_t consumed = 0;
  std::string error;
};

Result parse(resp::RequestParser& p, std::string_view input) {
  std::vector<std::string_view> views;
  Result r;
  r.what = p.parse(input, &views, &r.consumed, &r.error);
  for (std::string_view v : views) r.args.emplace_back(v);
  return r;
}

}  // namespace

TEST_CASE("a multibulk request gives its arguments, binary bytes included") {
  resp::RequestParser p(1024);
  const std::string input("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\na\0\xff\r\n*1\r\n$4\r\nPING\r\n", 43);
  Result r = parse(p, input);
  REQUIRE(r.what == resp::Parsed::kCommand);
  CHECK(r.args == std::vector<std::string>{"SET", "k", std::string("a\0\xff", 3)});
  CHECK(r.consumed == 29);
  r = parse(p, std::string_view(input).substr(r.consumed));
  REQUIRE(r.what == resp::Parsed::kCommand);
  CHECK(r.args == std::vector<std::string>{"PING"});
}

TEST_CASE("a command arriving a byte at a time is parsed once whole") {
  resp::RequestParser p(1024);
  const std::string input = "*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n";
  for (std::size_t n = 1; n < input.size(); ++n) {
    Result r = parse(p, std::string_view(input).substr(0, n));
    REQUIRE(r.what == resp::Parsed::kNeedMore);
  }
  Result r = parse(p, input);
  REQUIRE(r.what == resp::Parsed::kCommand);
  CHECK(r.args == std::vector<std::string>{"ECHO", "hello"});
  CHECK(r.consumed == input.size());
}

TEST_CASE("inline commands split like Redis's, with quotes and escapes") {
  resp::RequestParser p(1024);
  Result r = parse(p, "PING\r\n");
  REQUIRE(r.what == resp::Parsed::kCommand);
  CHECK(r.args == std::vector<std::string>{"PING"});
  r = parse(p, "set  \"a b\\x41\\n\" 'it\\'s'\n");
  REQUIRE(r.what == resp::Parsed::kCommand);
  CHECK(r.args == std::vector<std::string>{"set", "a bA\n", "it's"});
  r = parse(p, "\r\n");
  CHECK(r.what == resp::Parsed::kCommand);
  CHECK(r.args.empty());
  CHECK(r.consumed == 2);
  CHECK(parse(p, "GET").what == resp::Parsed::kNeedMore);
}

TEST_CASE("empty and null multibulks are skipped, as Redis does") {
  resp::RequestParser p(1024);
  for (const char* input : {"*0\r\n", "*-1\r\n"}) {
    Result r = parse(p, input);
    CHECK(r.what == resp::Parsed::kCommand);
    CHECK(r.args.empty());
    CHECK(r.consumed == std::string_view(input).size());
  }
}

TEST_CASE("broken framing is a protocol error in Redis's words") {
  struct Case {
    std::string input, error;
  } cases[] = {
      {"*x\r\n", "ERR Protocol error: invalid multibulk length"},
      {"*1048577\r\n", "ERR Protocol error: invalid multibulk length"},
      {"*99999999999999999999999\r\n", "ERR Protocol error: invalid multibulk length"},
      {"*2\r\n:3\r\n", "ERR Protocol error: expected '$', got ':'"},
      // A line break in the text becomes a space, as Redis makes it; a NUL
      // ends the text, as in Redis (its printf).
      {"*2\r\n\n", "ERR Protocol error: expected '$', got ' '"},
      {"*2\r\n\r\n", "ERR Protocol error: expected '$', got ' '"},
      {std::string("*2\r\n\0x", 6), "ERR Protocol error: expected '$', got '"},
      {"*2\r\n$-1\r\n", "ERR Protocol error: invalid bulk length"},
      {"*2\r\n$-5\r\n", "ERR Protocol error: invalid bulk length"},
      {"*2\r\n$abc\r\n", "ERR Protocol error: invalid bulk length"},
      {"*2\r\n$+3\r\n", "ERR Protocol error: invalid bulk length"},
      {"*2\r\n$3 \r\n", "ERR Protocol error: invalid bulk length"},
      {"*2\r\n$-\r\n", "ERR Protocol error: invalid bulk length"},
      // Leading zeros and "-0" are not numbers to Redis's string2ll.
      {"*01\r\n$4\r\nPING\r\n", "ERR Protocol error: invalid multibulk length"},
      {"*-0\r\n", "ERR Protocol error: invalid multibulk length"},
      {"*1\r\n$04\r\nPING\r\n", "ERR Protocol error: invalid bulk length"},
      {"*1\r\n$-0\r\n\r\n", "ERR Protocol error: invalid bulk length"},
      {"*2\r\n$\r\n", "ERR Protocol error: invalid bulk length"},
      {"*2\r\n$99999999999999999999\r\n", "ERR Protocol error: invalid bulk length"},
      {"*9223372036854775808\r\n", "ERR Protocol error: invalid multibulk length"},
      {"*-\r\n", "ERR Protocol error: invalid multibulk length"},
      {"*1\r\n$1025\r\n", "ERR Protocol error: invalid bulk length"},
      {"ECHO \"abc\r\n", "ERR Protocol error: unbalanced quotes in request"},
      {std::string(70000, 'a'), "ERR Protocol error: too big inline request"},
      {"*" + std::string(70000, '1'), "ERR Protocol error: too big mbulk count string"},
      {"*1\r\n$" + std::string(70000, '1'), "ERR Protocol error: too big bulk count string"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.input.substr(0, 40));
    resp::RequestParser p(1024);
    Result r = parse(p, c.input);
    CHECK(r.what == resp::Parsed::kError);
    CHECK(r.error == c.error);
  }
}

TEST_CASE("a bulk of exactly the limit is accepted") {
  resp::RequestParser p(4);
  Result r = parse(p, "*1\r\n$4\r\nabcd\r\n");
  REQUIRE(r.what == resp::Parsed::kCommand);
  CHECK(r.args == std::vector<std::string>{"abcd"});
}

TEST_CASE("1,048,576 arguments are accepted") {
  resp::RequestParser p(16);
  std::string input = "*1048576\r\n";
  for (int i = 0; i < 1048576; ++i) input += "$0\r\n\r\n";
  Result r = parse(p, input);
  REQUIRE(r.what == resp::Parsed::kCommand);
  CHECK(r.args.size() == 1048576);
}
