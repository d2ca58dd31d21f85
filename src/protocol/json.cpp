#include "protocol/json_ondemand.hpp"

#include <iterator>
#include <tuple>

namespace shmkv::json {

using simdjson::error_code;
namespace od = simdjson::ondemand;

static_assert(kPadding == simdjson::SIMDJSON_PADDING);

void OnDemandParserDelete::operator()(OnDemandParser* parser) const { delete parser; }

OnDemandParser::OnDemandParser() {
  // validate lets arrays and objects nest kMaxDepth levels, and the parser
  // counts the document as a level of its own. A failed allocation is tried
  // again, and reported, by the first parse.
  std::ignore = parser.allocate(kPadding, kMaxDepth + 1);
}

OnDemandParserPtr make_parser() { return OnDemandParserPtr(new OnDemandParser); }

// An ASCII text, as keys nearly always are, is answered by an OR over its
// bytes, which the compiler vectorises; simdjson's validate_utf8 is a call
// through its shared library's runtime dispatch, some 100 instructions for a
// 16-byte key.
bool is_utf8(std::string_view text) {
  unsigned char any = 0;
  for (const char c : text) any |= static_cast<unsigned char>(c);
  return any < 0x80 || simdjson::validate_utf8(text.data(), text.size());
}

error_code field_name(od::field& field, std::string_view* out) {
  const char* raw = field.key().raw();  // just after the opening quote
  std::size_t length = 0;
  while (raw[length] != '"') {
    if (raw[length] == '\\') return field.unescaped_key().get(*out);
    ++length;
  }
  *out = std::string_view(raw, length);
  return simdjson::SUCCESS;
}

error_code validate(od::value v, int depth) {
  if (depth >= kMaxDepth) return simdjson::DEPTH_ERROR;
  od::json_type type;
  if (auto e = v.type().get(type)) return e;
  switch (type) {
    case od::json_type::array: {
      od::array array;
      if (auto e = v.get_array().get(array)) return e;
      for (auto element : array) {
        od::value child;
        if (auto e = element.get(child)) return e;
        if (auto e = validate(child, depth + 1)) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::object: {
      od::object object;
      if (auto e = v.get_object().get(object)) return e;
      for (auto member : object) {
        od::field field;
        if (auto e = std::move(member).get(field)) return e;
        std::string_view key;  // an escaped name is decoded, which checks its escapes
        if (auto e = field_name(field, &key)) return e;
        if (auto e = validate(field.value(), depth + 1)) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::number: {
      // get_double accepts every grammatical number, big integers included
      // (only their double value is approximate, and it is thrown away).
      double ignored;
      return v.get_double().get(ignored);
    }
    case od::json_type::string: {
      std::string_view ignored;
      return v.get_string().get(ignored);
    }
    case od::json_type::boolean: {
      bool ignored;
      return v.get_bool().get(ignored);
    }
    case od::json_type::null: {
      bool is_null = false;
      if (auto e = v.is_null().get(is_null)) return e;
      return is_null ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
    }
  }
  return simdjson::INCORRECT_TYPE;
}

namespace {

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

const char* reason(error_code error) {
  switch (error) {
    case simdjson::TAPE_ERROR:
    case simdjson::INCOMPLETE_ARRAY_OR_OBJECT:
      return "bad structure (a missing or extra comma, colon, brace or bracket)";
    case simdjson::DEPTH_ERROR:
      return "nesting deeper than 1024 levels";
    case simdjson::STRING_ERROR:
      return "bad string (unknown escape or lone surrogate)";
    case simdjson::UNCLOSED_STRING:
      return "unterminated string";
    case simdjson::UNESCAPED_CHARS:
      return "unescaped control character in a string";
    case simdjson::NUMBER_ERROR:
      return "bad number";
    case simdjson::T_ATOM_ERROR:
    case simdjson::F_ATOM_ERROR:
    case simdjson::N_ATOM_ERROR:
    case simdjson::INCORRECT_TYPE:
      return "unexpected token";
    case simdjson::UTF8_ERROR:
      return "text is not valid UTF-8";
    case simdjson::EMPTY:
      return "no JSON value";
    case simdjson::TRAILING_CONTENT:
      return "unexpected text after the value";
    default:
      return simdjson::error_message(error);
  }
}

}  // namespace

error_code raw_text(od::value v, std::string_view* out) {
  od::json_type type;
  if (auto e = v.type().get(type)) return e;
  std::string_view text;
  if (type == od::json_type::array) {
    od::array array;
    if (auto e = v.get_array().get(array)) return e;
    if (auto e = array.raw_json().get(text)) return e;
  } else if (type == od::json_type::object) {
    od::object object;
    if (auto e = v.get_object().get(object)) return e;
    if (auto e = object.raw_json().get(text)) return e;
  } else {
    text = v.raw_json_token();
  }
  *out = trim_right(text);
  return simdjson::SUCCESS;
}

std::string describe(error_code error, long offset) {
  if (error == simdjson::UTF8_ERROR) return "body is not valid UTF-8";
  if (offset < 0) return fmt::format("malformed JSON: {}", reason(error));
  return fmt::format("malformed JSON at byte {}: {}", offset, reason(error));
}

Status check_value(std::string_view text) {
  // Wrapping the text in [ ] lets one code path check scalars and containers
  // alike, and reject "1, 2" (two values) by counting elements.
  std::string wrapped;
  wrapped.reserve(text.size() + 2 + kPadding);
  wrapped.append("[").append(text).append("]");
  OnDemandParser on_demand;
  od::parser& parser = on_demand.parser;
  od::document doc;
  auto position = [&]() -> long {
    const char* at = nullptr;
    if (doc.current_location().get(at)) return long(text.size());
    return long(at - wrapped.data()) - 1;
  };
  error_code e = parser.iterate(wrapped.data(), wrapped.size(), wrapped.capacity()).get(doc);
  if (e) return Status::invalid(describe(e, -1));
  od::array array;
  if ((e = doc.get_array().get(array))) return Status::invalid(describe(e, position()));
  int values = 0;
  for (auto element : array) {
    od::value v;
    if ((e = element.get(v)) || (e = validate(v, 1))) return Status::invalid(describe(e, position()));
    ++values;
  }
  const char* trailing = nullptr;
  if (doc.current_location().get(trailing) == simdjson::SUCCESS)
    return Status::invalid(describe(simdjson::TAPE_ERROR, position()));
  if (values == 0) return Status::invalid("no JSON value given");
  if (values > 1) return Status::invalid("more than one JSON value given");
  return Status::ok();
}

namespace {

// append_escaped appends the escape sequence of one character (quote_to's
// output without its quotes: at most 8 bytes in all).
void append_escaped(std::string& out, char c) {
  char quoted[8];
  const char* end = quote_to(quoted, std::string_view(&c, 1));
  out.append(quoted + 1, static_cast<std::size_t>(end - 1 - (quoted + 1)));
}

}  // namespace

// append_quoted copies each run of characters that need no escape at once;
// keys seldom have any, so that is usually one append.
void append_quoted(std::string& out, std::string_view s) {
  out.push_back('"');
  std::size_t from = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.substr(from, i - from));
    append_escaped(out, s[i]);
    from = i + 1;
  }
  out.append(s.substr(from));
  out.push_back('"');
}

namespace {

// code_point decodes the UTF-8 sequence that starts s (not empty) and sets
// *length to its bytes; a malformed one is U+FFFD of one byte.
char32_t code_point(std::string_view s, std::size_t* length) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = byte(0);
  const std::size_t n = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  *length = 1;
  if (n == 1 || n > s.size() || !is_utf8(s.substr(0, n))) return 0xfffd;
  char32_t c = lead & (0x7f >> n);
  for (std::size_t i = 1; i < n; ++i) c = (c << 6) | (byte(i) & 0x3f);
  *length = n;
  return c;
}

void append_u_escape(std::string& out, char32_t unit) {
  static constexpr char kHex[] = "0123456789abcdef";  // lower case, as Python writes it
  out.append("\\u");
  for (int shift = 12; shift >= 0; shift -= 4) out.push_back(kHex[(unit >> shift) & 0xf]);
}

}  // namespace

void append_quoted_ascii(std::string& out, std::string_view s) {
  out.push_back('"');
  std::size_t from = 0;
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    out.append(s.substr(from, i - from));
    std::size_t length = 1;
    if (c < 0x7f) {
      append_escaped(out, s[i]);
    } else if (c == 0x7f) {
      append_u_escape(out, c);
    } else if (const char32_t cp = code_point(s.substr(i), &length); cp < 0x10000) {
      append_u_escape(out, cp);
    } else {
      append_u_escape(out, 0xd800 + ((cp - 0x10000) >> 10));
      append_u_escape(out, 0xdc00 + ((cp - 0x10000) & 0x3ff));
    }
    i += length;
    from = i;
  }
  out.append(s.substr(from));
  out.push_back('"');
}

Status decode_string(std::string_view text, std::string* out) {
  if (Status s = check_value(text); !s) return s;  // exactly one value, nothing after it
  const simdjson::padded_string padded(text);
  OnDemandParser on_demand;
  od::document doc;
  std::string_view s;
  if (on_demand.parser.iterate(padded).get(doc) || doc.get_string().get(s)) return Status::invalid("not a JSON string");
  out->assign(s);
  return Status::ok();
}

}  // namespace shmkv::json
