// Redis's glob-style patterns for KEYS and SCAN MATCH (shmkv-protocol(7),
// RESP): * any run of bytes, ? one byte, [abc], [^abc] and [a-z] one byte of
// (or not of) a set, and \x the byte x itself.
#pragma once

#include <string_view>

namespace shmkv::resp::glob {

// match says whether text matches pattern, byte for byte. Its work is
// bounded (a "*" backtracks to the last star only), so no pattern makes it
// exponential.
bool match(std::string_view pattern, std::string_view text);

// literal_prefix is the part of pattern before its first special byte:
// every matching key starts with it.
std::string_view literal_prefix(std::string_view pattern);

}  // namespace shmkv::resp::glob
