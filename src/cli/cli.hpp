// The commands of shmkv(1), shared by its command line and its command-per-line
// standard input: parsing words into a Command, finishing it before it is
// sent, and running it through the client library with its output. The
// program (src/cli/main.cpp) owns the options, the connection and exit statuses.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "shmkv/client.hpp"
#include "shmkv/status.hpp"

namespace shmkv::cli {

enum class Verb { kGet, kPut, kDel, kKeys, kStats, kIncr, kExpire, kTtl, kCall, kSave, kDump, kRestore };

struct Command {
  Verb verb = Verb::kGet;
  bool raw = false;     // get -r: a string value printed without quotes and escapes
  bool string = false;  // put --string: the value is text to store as a JSON string
  bool json = false;    // stats --json: the STATS object as it came
  client::PutOptions put;  // put --ttl, --if-absent, --if-present
  std::int64_t by = 1;          // incr's BY (set by prepare)
  std::int64_t ttl_ms = 0;      // expire's SECONDS, 0 for none (set by prepare)
  bool resp = false;    // dump --format resp: RESP SET commands
  std::vector<std::string> args;  // KEY, JSON or TEXT, PREFIX, FUNC, PARAMS, BY, SECONDS, FILE
};

// parse_args parses a command given as program arguments, the command word
// first. Every word is taken as-is, so a key may start with '-'; options of
// the command come right after its word, and "--" ends them.
Status parse_args(const std::vector<std::string_view>& words, Command* out);

// parse_line parses one line of standard input, without its newline, the same
// way, with these differences: words are split at blanks; a word that starts
// with '"' is a JSON string, so that a key may hold blanks; and the last
// argument of put (JSON or TEXT) and of call (PARAMS) is the rest of the line.
// *blank is set, and nothing parsed, for an empty line or a "#" comment.
Status parse_line(std::string_view line, Command* out, bool* blank);

// prepare finishes a parsed command before anything is sent: it reads a "-"
// value of put from in (nullptr: refused, as standard input holds the
// commands), checks that JSON is one valid value and that text is UTF-8, and
// turns put --string's TEXT into a JSON string. It fails with kInvalid, or
// with kIo when in cannot be read.
Status prepare(Command* command, std::FILE* in);

// print_line writes text and a newline to out.
void print_line(std::FILE* out, std::string_view text);

// printable returns a JSON value for people (get -r): a string's
// characters, any other value's JSON text.
std::string printable(std::string_view json);

// run sends a prepared command through client and writes its output to out.
Status run(client::Client& client, const Command& command, std::FILE* out);

}  // namespace shmkv::cli
