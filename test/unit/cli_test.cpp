#include "cli/cli.hpp"

#include <doctest/doctest.h>

#include "check_ok.hpp"

#include <string>
#include <vector>

using namespace shmkv;

namespace {

using Args = std::vector<std::string>;

cli::Command from_args(std::vector<std::string_view> words) {
  cli::Command c;
  const Status s = cli::parse_args(words, &c);
  CAPTURE(s.message());
  REQUIRE_OK(s);
  return c;
}

cli::Command from_line(std::string_view line) {
  cli::Command c;
  bool blank = true;
  const Status s = cli::parse_line(line, &c, &blank);
  CAPTURE(s.message());
  REQUIRE_OK(s);
  REQUIRE(!blank);
  return c;
}

std::string line_error(std::string_view line) {
  cli::Command c;
  bool blank = true;
  return cli::parse_line(line, &c, &blank).message();
}

}  // namespace

TEST_CASE("cli: arguments are taken as they are, options right after the command word") {
  cli::Command c = from_args({"get", "-r", "k"});
  CHECK(c.verb == cli::Verb::kGet);
  CHECK(c.raw);
  CHECK(c.args == Args{"k"});
  CHECK(from_args({"get", "--raw", "k"}).raw);
  CHECK(from_args({"get", "-k"}).args == Args{"-k"});
  CHECK(from_args({"get", "--", "-r"}).args == Args{"-r"});
  CHECK(!from_args({"get", "--", "-r"}).raw);
  c = from_args({"put", "--string", "k", "a b"});
  CHECK(c.string);
  CHECK(c.args == Args{"k", "a b"});
  CHECK(from_args({"put", "k", "-1"}).args == Args{"k", "-1"});
  CHECK(from_args({"keys"}).args.empty());
  CHECK(from_args({"stats", "--json"}).json);
  CHECK(from_args({"call", "F"}).args == Args{"F"});

  cli::Command unused;
  CHECK(cli::parse_args({"frob"}, &unused).message() == "unknown command 'frob'");
  CHECK(cli::parse_args({"get", "a", "b"}, &unused).message() == "get takes one KEY: get [-r] KEY");
  CHECK(cli::parse_args({"put", "k", "{", "}"}, &unused).code() == Status::Code::kInvalid);
  CHECK(cli::parse_args({"get", "-r"}, &unused).code() == Status::Code::kInvalid);
}

TEST_CASE("cli: a line is cut at blanks; JSON and text take the rest of it") {
  CHECK(from_line("  get   k  ").args == Args{"k"});
  CHECK(from_line("get \"two words\\t\\u2603\"").args == Args{"two words\t\xe2\x98\x83"});
  CHECK(from_line("put k {\"a\": [1, 2]}").args == Args{"k", "{\"a\": [1, 2]}"});
  CHECK(from_line("put \"a key\"  \"a b\"").args == Args{"a key", "\"a b\""});
  cli::Command c = from_line("put --string k  two  blanks ");
  CHECK(c.string);
  CHECK(c.args == Args{"k", "two  blanks "});
  CHECK(from_line("call GET {\"obj\": \"k\"}").args == Args{"GET", "{\"obj\": \"k\"}"});
  CHECK(from_line("get \"-r\"").args == Args{"-r"});  // quoted: a key, not an option
  CHECK(!from_line("get \"-r\"").raw);

  for (std::string_view blank : {"", "   ", "\t", "# comment", "  #get k"}) {
    cli::Command unused;
    bool is_blank = false;
    CHECK_OK(cli::parse_line(blank, &unused, &is_blank));
    CHECK(is_blank);
  }
  CHECK(line_error("get \"open") == "\"open is not a valid JSON string");
  CHECK(line_error("get \"a\"b") == "\"a\"b is not a valid JSON string");
  CHECK(line_error("get \"\\q\"") == "\"\\q\" is not a valid JSON string");
  CHECK(line_error("get a b") == "get takes one KEY: get [-r] KEY");
}

TEST_CASE("cli: prepare checks values and makes text a JSON string") {
  cli::Command c = from_args({"put", "--string", "k", "say \"hi\"\n"});
  REQUIRE_OK(cli::prepare(&c, nullptr));
  CHECK(c.args[1] == "\"say \\\"hi\\\"\\n\"");

  c = from_args({"call", "STATS"});
  REQUIRE_OK(cli::prepare(&c, nullptr));
  CHECK(c.args == Args{"STATS", "{}"});

  c = from_args({"put", "k", "{\"a\": 01}"});
  CHECK(cli::prepare(&c, nullptr).message() == "JSON value for put: malformed JSON at byte 6: bad number");
  c = from_args({"put", "k", "-"});
  CHECK(cli::prepare(&c, nullptr).message() == "put KEY - reads standard input, which holds the commands here");
  c = from_args({"keys", "\xff"});
  CHECK(cli::prepare(&c, nullptr).message() == "PREFIX is not valid UTF-8");
}
