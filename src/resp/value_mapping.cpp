#include "resp/value_mapping.hpp"

#include <simdjson.h>

#include <iterator>

#include "protocol/json.hpp"

namespace shmkv::resp::value_mapping {

void to_stored(std::string_view bytes, std::string* stored) {
  stored->clear();
  if (simdjson::validate_utf8(bytes.data(), bytes.size())) {
    json::quote_to(std::back_inserter(*stored), bytes);
    return;
  }
  stored->reserve(bytes.size() + 1);
  stored->push_back(kBytesMarker);
  stored->append(bytes);
}

void to_bytes(std::string_view stored, std::string* bytes) {
  if (is_binary(stored)) {
    bytes->assign(stored.substr(1));
    return;
  }
  // Stored JSON text starts at its value (the parser keeps the source
  // text of the value alone), so a string starts with its quote.
  if (stored.size() < 2 || stored.front() != '"' || stored.back() != '"') {
    bytes->assign(stored);
    return;
  }
  const std::string_view inside = stored.substr(1, stored.size() - 2);
  if (inside.find('\\') == std::string_view::npos) {  // the common case: nothing escaped
    bytes->assign(inside);
    return;
  }
  simdjson::ondemand::parser parser;
  const simdjson::padded_string text(stored);
  std::string_view decoded;
  auto doc = parser.iterate(text);
  if (doc.get_string().get(decoded) != simdjson::SUCCESS) {
    bytes->assign(stored);  // cannot happen for stored JSON; the text is the honest answer
    return;
  }
  bytes->assign(decoded);
}

}  // namespace shmkv::resp::value_mapping
