// RESP request parsing (shmkv-protocol(7), RESP): the multibulk form every
// client library sends (*N\r\n$len\r\n...) and the inline form telnet sends
// (PING\r\n). The parser is incremental: a command that arrives in pieces is
// not parsed again from its start at each read.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shmkv::resp {

// Redis's own bounds: a multibulk of more arguments, or an inline request or
// a length line longer than this, is a protocol error.
inline constexpr std::size_t kMaxArguments = 1024 * 1024;
inline constexpr std::size_t kMaxInline = 64 * 1024;

// parse_integer reads a signed 64-bit decimal as Redis's string2ll does:
// digits with an optional minus, no blanks, no "+", no leading zeros, no
// "-0". Lengths in the framing and integer arguments are read alike.
bool parse_integer(std::string_view text, long long* out);

enum class Parsed {
  kCommand,   // *args holds a whole command
  kNeedMore,  // the command is not whole yet: read more, call again
  kError,     // broken framing: reply *error (Redis's words), then close
};

class RequestParser {
 public:
  // max_bulk bounds one argument (--max-message).
  explicit RequestParser(std::size_t max_bulk) : max_bulk_(max_bulk) {}

  // parse reads at most one command from input, which starts where the
  // previous command ended and holds every byte received since (the same
  // bytes again after kNeedMore, with more behind them). On kCommand *args
  // are views into input and *consumed says how many bytes the command
  // took; empty inline lines and empty multibulks are skipped and counted
  // in *consumed without a command (args empty). On kError *error is the
  // reply text without "-" and "\r\n".
  Parsed parse(std::string_view input, std::vector<std::string_view>* args, std::size_t* consumed,
               std::string* error);

  // reset forgets a command in progress (a new connection).
  void reset();

 private:
  Parsed parse_inline(std::string_view input, std::vector<std::string_view>* args, std::size_t* consumed,
                      std::string* error);
  Parsed fail(const char* what, std::string* error);

  const std::size_t max_bulk_;
  std::vector<std::string> inline_args_;  // an inline command's arguments
  // A multibulk in progress: arguments still expected (0: none begun), the
  // offset of the next byte to parse, and the arguments parsed so far as
  // offsets into input (input may move between calls; its start does not).
  std::size_t expected_ = 0;
  std::size_t position_ = 0;
  std::vector<std::pair<std::size_t, std::size_t>> spans_;
};

// split_inline splits an inline request into arguments as Redis's
// sdssplitargs does: blanks separate, "double quotes" take \n \r \t \b \a
// \\ \" and \xHH escapes, 'single quotes' take \'. False on unbalanced
// quotes. *out is cleared first.
bool split_inline(std::string_view line, std::vector<std::string>* out);

}  // namespace shmkv::resp
