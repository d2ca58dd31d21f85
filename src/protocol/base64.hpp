// Base64 (RFC 4648, section 4: the standard alphabet, padded, no line
// breaks): how the JSON protocol carries a bytes value, which JSON text
// cannot (shmkv-protocol(7), Bytes over JSON). Used by the request parser,
// the replies, the client library and shmkv dump.
#pragma once

#include <string>
#include <string_view>

#include "shmkv/status.hpp"

namespace shmkv::base64 {

// append_encoded appends the base64 of bytes to out.
void append_encoded(std::string& out, std::string_view bytes);

// decode sets *out to the bytes text encodes. Only the canonical encoding
// is taken: the standard alphabet, length a multiple of 4, at most two "="
// and only at the end, the unused bits of the last character zero. Anything
// else (white space, URL-safe characters, a missing "=") is kInvalid, and
// *out is then unspecified.
Status decode(std::string_view text, std::string* out);

}  // namespace shmkv::base64
