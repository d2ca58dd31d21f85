// JSON helpers shared by the request parser, the replies and the client:
// checking a text, JSON string quoting, and the handle to simdjson's parser.
// The parsing helpers are in protocol/json_ondemand.hpp, for the few files
// that parse JSON: only they include simdjson.h.
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "shmkv/status.hpp"

namespace shmkv::json {

// Deepest nesting of arrays and objects accepted, as simdjson's default.
inline constexpr int kMaxDepth = 1024;

// kPadding is how many readable bytes simdjson needs after a text it parses
// in place (simdjson::SIMDJSON_PADDING; json.cpp checks that they agree).
inline constexpr std::size_t kPadding = 64;

// OnDemandParser is simdjson's On-Demand parser with the buffers it keeps from
// one document to the next (defined in protocol/json_ondemand.hpp). Its owners
// hold it through OnDemandParserPtr, so that their headers need not include
// simdjson.h, whose templates cost seconds of compile time in every file.
struct OnDemandParser;
struct OnDemandParserDelete {
  void operator()(OnDemandParser* parser) const;
};
using OnDemandParserPtr = std::unique_ptr<OnDemandParser, OnDemandParserDelete>;
OnDemandParserPtr make_parser();

// is_utf8 says whether text is valid UTF-8.
bool is_utf8(std::string_view text);

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

// append_quoted_ascii appends s as Python's json.dumps writes a string, as
// the original server did (shmkv-protocol(7), Requests and replies): what append_quoted
// escapes, and every character outside ASCII's printable range as \uXXXX
// (a surrogate pair above U+FFFF), so that the text is ASCII. A byte that
// is not part of valid UTF-8 becomes \ufffd.
void append_quoted_ascii(std::string& out, std::string_view s);

// AsciiQuoted formats with append_quoted_ascii: fmt::format("{}", AsciiQuoted{s}).
struct AsciiQuoted {
  std::string_view text;
};

// decode_string sets *out to the characters of text, which must be exactly
// one JSON string literal (quotes and escapes resolved); kInvalid otherwise.
Status decode_string(std::string_view text, std::string* out);

// Quoted formats as a JSON string literal: fmt::format("{}", Quoted{s}).
struct Quoted {
  std::string_view text;
};

}  // namespace shmkv::json

template <>
struct fmt::formatter<shmkv::json::AsciiQuoted> {
  constexpr auto parse(format_parse_context& ctx) { return ctx.begin(); }
  template <typename Context>
  auto format(const shmkv::json::AsciiQuoted& q, Context& ctx) const {
    std::string quoted;
    shmkv::json::append_quoted_ascii(quoted, q.text);
    return std::copy(quoted.begin(), quoted.end(), ctx.out());
  }
};

template <>
struct fmt::formatter<shmkv::json::Quoted> {
  constexpr auto parse(format_parse_context& ctx) { return ctx.begin(); }
  template <typename Context>
  auto format(const shmkv::json::Quoted& q, Context& ctx) const {
    return shmkv::json::quote_to(ctx.out(), q.text);
  }
};
