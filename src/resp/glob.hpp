// Redis's glob-style patterns for KEYS and SCAN MATCH (shmkv-protocol(7),
// RESP): * any run of bytes, ? one byte, [abc], [^abc] and [a-z] one byte of
// (or not of) a set, and \x the byte x itself.
#pragma once

#include <cstdint>
#include <string_view>

namespace shmkv::resp::glob {

// match says whether text matches pattern, byte for byte. A "*" backtracks
// to the last star only, so no pattern makes it exponential; but a long
// pattern against a long text still costs their product, hence the budget.
enum class Result { kNo, kYes, kOverBudget };
// budget is the matching work left to the caller, in steps: one byte of
// text tried against one element of the pattern (a class costs its length).
// kOverBudget says it ran out before an answer.
Result match(std::string_view pattern, std::string_view text, std::uint64_t* budget);
// match without a budget, for short patterns and texts (CONFIG GET's).
bool match(std::string_view pattern, std::string_view text);

// literal_prefix is the part of pattern before its first special byte:
// every matching key starts with it.
std::string_view literal_prefix(std::string_view pattern);

}  // namespace shmkv::resp::glob
