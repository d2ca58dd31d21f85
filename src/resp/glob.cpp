#include "resp/glob.hpp"

#include <algorithm>
#include <cstddef>

namespace shmkv::resp::glob {
namespace {

// match_class matches text byte c against the class starting after '[' at
// pattern[*p]; *p is left after the closing ']' (or the end, which closes an
// unterminated class as Redis does).
bool match_class(std::string_view pattern, std::size_t* p, unsigned char c) {
  std::size_t i = *p;
  bool negate = false;
  if (i < pattern.size() && pattern[i] == '^') {
    negate = true;
    ++i;
  }
  bool matched = false;
  while (i < pattern.size() && pattern[i] != ']') {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      if (static_cast<unsigned char>(pattern[i + 1]) == c) matched = true;
      i += 2;
    } else if (i + 2 < pattern.size() && pattern[i + 1] == '-') {
      // A range as Redis reads one: "[a-]x]" is a to ']', then "x".
      unsigned char lo = static_cast<unsigned char>(pattern[i]);
      unsigned char hi = static_cast<unsigned char>(pattern[i + 2]);
      if (lo > hi) {
        const unsigned char t = lo;
        lo = hi;
        hi = t;
      }
      if (c >= lo && c <= hi) matched = true;
      i += 3;
    } else {
      if (static_cast<unsigned char>(pattern[i]) == c) matched = true;
      ++i;
    }
  }
  *p = i < pattern.size() ? i + 1 : i;
  return matched != negate;
}

}  // namespace

Result match(std::string_view pattern, std::string_view text, std::uint64_t* budget) {
  std::size_t p = 0, t = 0;
  std::size_t star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (*budget == 0) return Result::kOverBudget;
    --*budget;
    if (p < pattern.size()) {
      const char pc = pattern[p];
      if (pc == '*') {
        const std::size_t run = p;
        while (p < pattern.size() && pattern[p] == '*') ++p;
        *budget -= std::min<std::uint64_t>(*budget, p - run);
        if (p == pattern.size()) return Result::kYes;
        star_p = p;
        star_t = t;
        continue;
      }
      if (pc == '?') {
        ++p;
        ++t;
        continue;
      }
      if (pc == '[') {
        std::size_t q = p + 1;
        const bool in_class = match_class(pattern, &q, static_cast<unsigned char>(text[t]));
        *budget -= std::min<std::uint64_t>(*budget, q - p);
        if (in_class) {
          p = q;
          ++t;
          continue;
        }
      } else {
        std::size_t q = p;
        if (pc == '\\' && p + 1 < pattern.size()) ++q;
        if (pattern[q] == text[t]) {
          p = q + 1;
          ++t;
          continue;
        }
      }
    }
    // A mismatch: let the last star take one more byte, if there was one.
    if (star_p == std::string_view::npos) return Result::kNo;
    p = star_p;
    t = ++star_t;
  }
  const std::size_t run = p;
  while (p < pattern.size() && pattern[p] == '*') ++p;
  *budget -= std::min<std::uint64_t>(*budget, p - run);
  return p == pattern.size() ? Result::kYes : Result::kNo;
}

bool match(std::string_view pattern, std::string_view text) {
  std::uint64_t unbounded = UINT64_MAX;
  return match(pattern, text, &unbounded) == Result::kYes;
}

std::string_view literal_prefix(std::string_view pattern) {
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '*' || c == '?' || c == '[' || c == '\\') return pattern.substr(0, i);
  }
  return pattern;
}

}  // namespace shmkv::resp::glob
