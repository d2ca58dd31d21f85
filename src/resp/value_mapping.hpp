// The mapping between RESP's byte strings and the store's values
// (shmkv-protocol(7), RESP values). A RESP write stores raw bytes, marked
// with the store's bytes kind; a RESP read of a JSON value returns its text,
// except a JSON string, which returns the string's decoded UTF-8 bytes.
#pragma once

#include <string>
#include <string_view>

#include "store/store.hpp"

namespace shmkv::resp::value_mapping {

// to_bytes sets *bytes to what a RESP GET returns for a stored value of the
// given kind: bytes as they are, a JSON string's decoded UTF-8, or any other
// JSON value's text.
void to_bytes(std::string_view stored, store::Kind kind, std::string* bytes);

}  // namespace shmkv::resp::value_mapping
