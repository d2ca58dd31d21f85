// JSON helpers shared by the request parser and the client: full validation of a
// value with simdjson On-Demand (which otherwise checks only what it is asked
// for), the exact source text of a value, and JSON string quoting for replies.
#pragma once

#include <fmt/format.h>
#include <simdjson.h>

#include <string>
#include <string_view>

#include "shmkv/status.hpp"

namespace shmkv::json {

// Deepest nesting of arrays and objects accepted, as simdjson's default.
inline constexpr int kMaxDepth = 1024;

// validate walks v and everything inside it, so that every number, string and
// literal is parsed and checked, and returns the first error. It recurses at
// most kMaxDepth levels, so hostile nesting cannot exhaust the stack.
simdjson::error_code validate(simdjson::ondemand::value v, int depth = 0);

// field_name sets *out to a member's name. A name without a backslash, as
// clients write the protocol's names, is read in place (stage 1 has checked
// its UTF-8 and control characters already); only one with escapes is
// decoded, into the parser's buffer. Decoding every name took a measurable
// share of a request's parse.
simdjson::error_code field_name(simdjson::ondemand::field& field, std::string_view* out);

// raw_text sets *out to the source text of v (trailing white space trimmed),
// consuming v. v must already have been validated.
simdjson::error_code raw_text(simdjson::ondemand::value v, std::string_view* out);

// describe turns a simdjson error at a byte offset of the text into one line,
// e.g. "malformed JSON at byte 17: bad number". offset < 0 means unknown.
std::string describe(simdjson::error_code error, long offset);

// check_value reports whether text is exactly one valid JSON value, with the
// byte position of the first problem when it is not.
Status check_value(std::string_view text);

// quote_to writes s as a JSON string literal to an output iterator: quotes,
// backslashes and control characters escaped, other UTF-8 passed through.
template <typename OutputIt>
OutputIt quote_to(OutputIt out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  *out++ = '"';
  for (char c : s) {
    const char* escape = nullptr;
    switch (c) {
      case '"': escape = "\\\""; break;
      case '\\': escape = "\\\\"; break;
      case '\n': escape = "\\n"; break;
      case '\r': escape = "\\r"; break;
      case '\t': escape = "\\t"; break;
      case '\b': escape = "\\b"; break;
      case '\f': escape = "\\f"; break;
      default: break;
    }
    if (escape) {
      while (*escape) *out++ = *escape++;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      for (char x : {'\\', 'u', '0', '0', kHex[(c >> 4) & 0xf], kHex[c & 0xf]}) *out++ = x;
    } else {
      *out++ = c;
    }
  }
  *out++ = '"';
  return out;
}

// append_quoted appends s to out as a JSON string literal.
void append_quoted(std::string& out, std::string_view s);

// decode_string sets *out to the characters of text, which must be exactly
// one JSON string literal (quotes and escapes resolved); kInvalid otherwise.
Status decode_string(std::string_view text, std::string* out);

// Quoted formats as a JSON string literal: fmt::format("{}", Quoted{s}).
struct Quoted {
  std::string_view text;
};

}  // namespace shmkv::json

template <>
struct fmt::formatter<shmkv::json::Quoted> {
  constexpr auto parse(format_parse_context& ctx) { return ctx.begin(); }
  template <typename Context>
  auto format(const shmkv::json::Quoted& q, Context& ctx) const {
    return shmkv::json::quote_to(ctx.out(), q.text);
  }
};
