// The mapping between RESP's byte strings and the store's values
// (shmkv-protocol(7), RESP values). Until the store records each value's
// kind, a RESP value is stored as the JSON string of its bytes when they
// are valid UTF-8 (which reads the same over both protocols), and otherwise
// as a marker byte that no JSON text can begin with followed by the bytes.
#pragma once

#include <string>
#include <string_view>

namespace shmkv::resp::value_mapping {

// kBytesMarker begins a stored value that is raw bytes. 0xFF is never
// valid UTF-8, and JSON values are stored as validated UTF-8 text.
inline constexpr char kBytesMarker = '\xff';

// to_stored sets *stored to what the store keeps for the RESP bytes.
void to_stored(std::string_view bytes, std::string* stored);

// to_bytes sets *bytes to what a RESP GET returns for a stored value: the
// bytes of a RESP value, a JSON string's decoded UTF-8, or any other JSON
// value's text.
void to_bytes(std::string_view stored, std::string* bytes);

// is_binary says whether a stored value holds bytes JSON cannot carry.
inline bool is_binary(std::string_view stored) { return !stored.empty() && stored[0] == kBytesMarker; }

}  // namespace shmkv::resp::value_mapping
