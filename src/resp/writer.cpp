#include "resp/writer.hpp"

#include <charconv>

namespace shmkv::resp {

void Writer::header(char type, long long n) {
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out_.push_back(type);
  out_.append(digits, end);
  out_.append("\r\n", 2);
}

void Writer::simple(std::string_view text) {
  out_.push_back('+');
  out_.append(text);
  out_.append("\r\n", 2);
}

void Writer::error(std::string_view text) {
  out_.push_back('-');
  for (char c : text) out_.push_back(c == '\r' || c == '\n' ? ' ' : c);
  out_.append("\r\n", 2);
}

void Writer::integer(long long n) { header(':', n); }

void Writer::bulk(std::string_view bytes) {
  header('$', static_cast<long long>(bytes.size()));
  out_.append(bytes);
  out_.append("\r\n", 2);
}

void Writer::verbatim(std::string_view text) {
  if (protocol_ < 3) return bulk(text);
  header('=', static_cast<long long>(text.size() + 4));
  out_.append("txt:", 4);
  out_.append(text);
  out_.append("\r\n", 2);
}

void Writer::null() {
  if (protocol_ >= 3) out_.append("_\r\n", 3);
  else out_.append("$-1\r\n", 5);
}

void Writer::null_array() {
  if (protocol_ >= 3) out_.append("_\r\n", 3);
  else out_.append("*-1\r\n", 5);
}

void Writer::array(std::size_t count) { header('*', static_cast<long long>(count)); }

void Writer::map(std::size_t count) {
  if (protocol_ >= 3) header('%', static_cast<long long>(count));
  else header('*', static_cast<long long>(2 * count));
}

}  // namespace shmkv::resp
