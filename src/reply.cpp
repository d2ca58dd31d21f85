#include "shmkv/reply.hpp"

#include <fmt/format.h>

#include <iterator>

#include "shmkv/frame.hpp"
#include "shmkv/json.hpp"

namespace shmkv::reply {

using json::Quoted;

// The spacing (", " and ": ") is that of Python's json.dumps, which the
// original server used; clients that compare bytes see no difference.

void get(std::string& out, std::int32_t version, std::string_view key, const std::string_view* value) {
  const std::size_t header = frame::begin(out, version);
  fmt::format_to(std::back_inserter(out),
                 R"({{"status": "OK", "response": {{"func": "GET", "response": {{"obj": {}, "val": {}}}}}}})",
                 Quoted{key}, value ? *value : std::string_view("null"));
  frame::finish(out, header);
}

void put(std::string& out, std::int32_t version, std::string_view key) {
  const std::size_t header = frame::begin(out, version);
  fmt::format_to(std::back_inserter(out),
                 R"({{"status": "OK", "response": {{"func": "PUT", "response": {{"obj": {}, "response": "ok"}}}}}})",
                 Quoted{key});
  frame::finish(out, header);
}

void unknown_function(std::string& out, std::int32_t version, std::string_view func) {
  const std::size_t header = frame::begin(out, version);
  fmt::format_to(std::back_inserter(out),
                 R"({{"status": "OK", "response": {{"func": {}, "response": "ERROR - Function doesn't exist"}}}})",
                 Quoted{func});
  frame::finish(out, header);
}

void error(std::string& out, std::int32_t version, std::string_view message) {
  const std::size_t header = frame::begin(out, version);
  fmt::format_to(std::back_inserter(out), R"({{"status": "ERROR", "error": {}}})", Quoted{message});
  frame::finish(out, header);
}

}  // namespace shmkv::reply
