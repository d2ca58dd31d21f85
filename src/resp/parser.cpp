#include "resp/parser.hpp"

#include <climits>
#include <cstring>

#include <fmt/format.h>

namespace shmkv::resp {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_blank(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\0'; }

}  // namespace

bool parse_integer(std::string_view text, long long* out) {
  if (text.empty() || text.size() > 20) return false;
  std::size_t i = 0;
  const bool negative = text[0] == '-';
  if (negative) i = 1;
  if (i == text.size()) return false;
  if (text[i] == '0') {
    if (text.size() != 1) return false;  // "0" alone; no "-0", no leading zeros
    *out = 0;
    return true;
  }
  unsigned long long v = 0;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return false;
    const unsigned d = static_cast<unsigned>(c - '0');
    if (v > (ULLONG_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  if (negative) {
    if (v > static_cast<unsigned long long>(LLONG_MAX) + 1) return false;
    *out = static_cast<long long>(0 - v);
  } else {
    if (v > static_cast<unsigned long long>(LLONG_MAX)) return false;
    *out = static_cast<long long>(v);
  }
  return true;
}

bool split_inline(std::string_view line, std::vector<std::string>* out) {
  out->clear();
  std::size_t i = 0;
  const std::size_t n = line.size();
  for (;;) {
    while (i < n && is_blank(line[i])) ++i;
    if (i == n) return true;
    std::string arg;
    bool in_double = false, in_single = false;
    for (;;) {
      if (in_double) {
        if (i == n) return false;  // unbalanced quotes
        if (line[i] == '\\' && i + 3 < n && line[i + 1] == 'x' && hex_digit(line[i + 2]) >= 0 &&
            hex_digit(line[i + 3]) >= 0) {
          arg.push_back(static_cast<char>(hex_digit(line[i + 2]) * 16 + hex_digit(line[i + 3])));
          i += 4;
        } else if (line[i] == '\\' && i + 1 < n) {
          const char c = line[i + 1];
          arg.push_back(c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : c == 'b' ? '\b' : c == 'a' ? '\a' : c);
          i += 2;
        } else if (line[i] == '"') {
          // A closing quote must be followed by a blank or the end.
          if (i + 1 < n && !is_blank(line[i + 1])) return false;
          ++i;
          break;
        } else {
          arg.push_back(line[i++]);
        }
      } else if (in_single) {
        if (i == n) return false;
        if (line[i] == '\\' && i + 1 < n && line[i + 1] == '\'') {
          arg.push_back('\'');
          i += 2;
        } else if (line[i] == '\'') {
          if (i + 1 < n && !is_blank(line[i + 1])) return false;
          ++i;
          break;
        } else {
          arg.push_back(line[i++]);
        }
      } else {
        if (i == n || is_blank(line[i])) break;
        if (line[i] == '"') in_double = true;
        else if (line[i] == '\'') in_single = true;
        else arg.push_back(line[i]);
        ++i;
      }
    }
    out->push_back(std::move(arg));
  }
}

void RequestParser::reset() {
  expected_ = 0;
  position_ = 0;
  spans_.clear();
}

Parsed RequestParser::fail(const char* what, std::string* error) {
  *error = fmt::format("ERR Protocol error: {}", what);
  reset();
  return Parsed::kError;
}

// parse_inline answers a request that does not start with '*': one line,
// ended by "\n" (a "\r" before it is dropped), split like a shell's words.
Parsed RequestParser::parse_inline(std::string_view input, std::vector<std::string_view>* args,
                                   std::size_t* consumed, std::string* error) {
  const std::size_t newline = input.find('\n');
  if (newline == std::string_view::npos) {
    if (input.size() > kMaxInline) return fail("too big inline request", error);
    return Parsed::kNeedMore;
  }
  std::string_view line = input.substr(0, newline);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!split_inline(line, &inline_args_)) return fail("unbalanced quotes in request", error);
  for (const std::string& a : inline_args_) args->push_back(a);
  *consumed = newline + 1;
  return Parsed::kCommand;
}

Parsed RequestParser::parse(std::string_view input, std::vector<std::string_view>* args, std::size_t* consumed,
                            std::string* error) {
  args->clear();
  *consumed = 0;
  if (input.empty()) return Parsed::kNeedMore;
  if (expected_ == 0) {
    if (input[0] != '*') return parse_inline(input, args, consumed, error);
    const std::size_t cr = input.find('\r');
    if (cr == std::string_view::npos || cr + 1 >= input.size()) {
      if (input.size() > kMaxInline) return fail("too big mbulk count string", error);
      return Parsed::kNeedMore;
    }
    long long count = 0;
    if (!parse_integer(input.substr(1, cr - 1), &count) || count > static_cast<long long>(kMaxArguments))
      return fail("invalid multibulk length", error);
    if (count <= 0) {  // "*0" and "*-1": nothing to do, as Redis
      *consumed = cr + 2;
      return Parsed::kCommand;
    }
    expected_ = static_cast<std::size_t>(count);
    position_ = cr + 2;
    spans_.clear();
  }
  while (spans_.size() < expected_) {
    const std::string_view rest = input.substr(position_);
    if (rest.empty()) return Parsed::kNeedMore;
    if (rest[0] != '$') {
      // Redis's words, the byte as it came (a NUL ends the text, as in
      // Redis), except that a line break becomes a space, as Redis makes it,
      // so that the error stays one line.
      const char got = rest[0] == '\r' || rest[0] == '\n' ? ' ' : rest[0];
      char what[64];
      std::snprintf(what, sizeof what, "expected '$', got '%c'", got);
      return fail(what, error);
    }
    const std::size_t cr = rest.find('\r');
    if (cr == std::string_view::npos || cr + 1 >= rest.size()) {
      if (rest.size() > kMaxInline) return fail("too big bulk count string", error);
      return Parsed::kNeedMore;
    }
    long long length = 0;
    if (!parse_integer(rest.substr(1, cr - 1), &length) || length < 0 ||
        static_cast<unsigned long long>(length) > max_bulk_)
      return fail("invalid bulk length", error);
    // Like Redis, the two bytes after the data are taken as "\r\n" unseen.
    const std::size_t need = cr + 2 + static_cast<std::size_t>(length) + 2;
    if (rest.size() < need) return Parsed::kNeedMore;
    spans_.emplace_back(position_ + cr + 2, static_cast<std::size_t>(length));
    position_ += need;
  }
  for (const auto& [offset, length] : spans_) args->push_back(input.substr(offset, length));
  *consumed = position_;
  expected_ = 0;
  position_ = 0;
  return Parsed::kCommand;
}

}  // namespace shmkv::resp
