#include "cli/dump.hpp"

#include <doctest/doctest.h>

#include "check_ok.hpp"
#include "cli/cli.hpp"
#include "protocol/json.hpp"

using namespace shmkv;

TEST_CASE("dump: a line holds the value's JSON text as stored; one with a line break goes as val_text") {
  std::string out;
  cli::dump_line(out, "k\"1", "[1,  2.50]");
  CHECK(out == "{\"obj\": \"k\\\"1\", \"val\": [1,  2.50]}\n");
  out.clear();
  cli::dump_line(out, "nl", "{\"a\":\r\n 1}");
  CHECK(out == "{\"obj\": \"nl\", \"val_text\": \"{\\\"a\\\":\\r\\n 1}\"}\n");
  out.clear();
  cli::dump_line(out, "t", "1", "12.345");
  CHECK(out == "{\"obj\": \"t\", \"val\": 1, \"ttl\": 12.345}\n");
}

TEST_CASE("dump: every line it writes parses back to the PUT of the same key and exact value") {
  const std::pair<std::string, std::string> cases[] = {
      {"plain", "\"text\""}, {"", "null"}, {"\xc3\xbc", "{\"x\": [1, {\"y\": \"\\n\"}]}"}, {"nl", "[1,\n2]"},
  };
  for (const auto& [key, value] : cases) {
    std::string line;
    cli::dump_line(line, key, value);
    line.pop_back();  // the newline
    std::string params;
    REQUIRE_OK(cli::parse_dump_line(line, &params));
    std::string expected = R"({"obj": )";
    json::append_quoted(expected, key);
    expected += R"(, "val": )" + value + "}";
    CHECK(params == expected);
  }
}

TEST_CASE("dump: a bytes value goes as base64 and parses back to a PUT of bytes") {
  std::string out;
  cli::dump_line(out, "b", std::string("\xff\x00\n", 3), "1.5", true);
  CHECK(out == "{\"obj\": \"b\", \"bytes\": \"/wAK\", \"ttl\": 1.5}\n");
  out.pop_back();
  std::string params;
  REQUIRE_OK(cli::parse_dump_line(out, &params));
  CHECK(params == R"({"obj": "b", "bytes": "/wAK", "ttl": 1.5})");
  out.clear();
  cli::dump_line(out, "e", "", {}, true);
  CHECK(out == "{\"obj\": \"e\", \"bytes\": \"\"}\n");
  // In RESP, bytes are written as they are, even when they look like a JSON string.
  out.clear();
  cli::resp_command(out, "q", "\"x\"", 0, true);
  CHECK(out == "*3\r\n$3\r\nSET\r\n$1\r\nq\r\n$3\r\n\"x\"\r\n");
}

TEST_CASE("dump: restore keeps ttl, and refuses what is not a dump line") {
  std::string params;
  REQUIRE_OK(cli::parse_dump_line(R"({"ttl": 1.5, "val": 2, "obj": "k"})", &params));
  CHECK(params == R"({"obj": "k", "val": 2, "ttl": 1.5})");
  CHECK(!cli::parse_dump_line("not json", &params));
  CHECK(!cli::parse_dump_line("[1]", &params));
  CHECK(!cli::parse_dump_line(R"({"obj": 1, "val": 2})", &params));
  CHECK(!cli::parse_dump_line(R"({"val": 2})", &params));
  CHECK(!cli::parse_dump_line(R"({"obj": "k"})", &params));
  CHECK(!cli::parse_dump_line(R"({"obj": "k", "val": 1, "val_text": "2"})", &params));
  CHECK(!cli::parse_dump_line(R"({"obj": "k", "val_text": "[1,"})", &params));
  CHECK(!cli::parse_dump_line(R"({"obj": "k", "bytes": "AAE"})", &params));
  CHECK(!cli::parse_dump_line(R"({"obj": "k", "bytes": 1})", &params));
  CHECK(!cli::parse_dump_line(R"({"obj": "k", "bytes": "AAE=", "val": 1})", &params));
  CHECK(!cli::parse_dump_line(R"({"obj": "k", "val": 1, "other": 2})", &params));
}

TEST_CASE("dump: RESP SET carries a JSON string's characters and any other value's text") {
  std::string out;
  cli::resp_command(out, "k", "\"caf\\u00e9\"");
  CHECK(out == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\ncaf\xc3\xa9\r\n");
  out.clear();
  cli::resp_command(out, "n", "[1, 2]");
  CHECK(out == "*3\r\n$3\r\nSET\r\n$1\r\nn\r\n$6\r\n[1, 2]\r\n");
  out.clear();
  cli::resp_command(out, "e", "7", 1700000000123);
  CHECK(out == "*5\r\n$3\r\nSET\r\n$1\r\ne\r\n$1\r\n7\r\n$4\r\nPXAT\r\n$13\r\n1700000000123\r\n");
}

TEST_CASE("dump: the command line takes --format json or resp") {
  cli::Command c;
  REQUIRE_OK(cli::parse_args({"dump", "--format", "resp", "pre"}, &c));
  CHECK(c.verb == cli::Verb::kDump);
  CHECK(c.resp);
  CHECK(c.args == std::vector<std::string>{"pre"});
  REQUIRE_OK(cli::parse_args({"dump"}, &c));
  CHECK(!c.resp);
  CHECK(!cli::parse_args({"dump", "--format", "xml"}, &c));
  CHECK(!cli::parse_args({"dump", "--format"}, &c));
  REQUIRE_OK(cli::parse_args({"restore", "f.jsonl"}, &c));
  CHECK(c.verb == cli::Verb::kRestore);
  // On a line of standard input, restore needs a FILE: stdin holds the commands.
  bool blank = false;
  REQUIRE_OK(cli::parse_line("restore", &c, &blank));
  CHECK(!cli::prepare(&c, nullptr));
  REQUIRE_OK(cli::parse_line("restore f.jsonl", &c, &blank));
  CHECK_OK(cli::prepare(&c, nullptr));
  REQUIRE_OK(cli::parse_args({"save"}, &c));
  CHECK(c.verb == cli::Verb::kSave);
  CHECK(!cli::parse_args({"save", "x"}, &c));
}
