#include "resp/value_mapping.hpp"

#include <simdjson.h>


namespace shmkv::resp::value_mapping {

void to_bytes(std::string_view stored, store::Kind kind, std::string* bytes) {
  if (kind == store::Kind::kBytes) {
    bytes->assign(stored);
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
