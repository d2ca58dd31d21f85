// simdjson On-Demand helpers for the files that parse JSON: full validation of
// a value (On-Demand otherwise checks only what it is asked for), member names,
// the exact source text of a value, and errors described in one line.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>

#include "protocol/json.hpp"

namespace shmkv::json {

struct OnDemandParser {
  // Sets the nesting depth that the parser tracks to what validate accepts:
  // simdjson's development checks, which are on in unoptimised builds,
  // assert that no document goes deeper.
  OnDemandParser();
  simdjson::ondemand::parser parser;
};

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

}  // namespace shmkv::json
