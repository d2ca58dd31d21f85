#include "cli/local.hpp"


#include <fmt/format.h>

#include "protocol/json.hpp"

namespace shmkv::cli {

bool runs_locally(const Command& command) { return command.verb == Verb::kGet || command.verb == Verb::kKeys; }

namespace {

Status get(local::Reader& reader, const Command& command, std::FILE* out) {
  const std::string& key = command.args[0];
  std::string value;
  local::Kind kind = local::Kind::kJson;
  Status s = reader.get(key, &value, &kind);
  // A stored null reads as not set, as over the network (the protocol's GET
  // answers null for an absent key).
  if (s.is_not_found() || (s && kind == local::Kind::kJson && value == "null"))
    return Status::not_found(fmt::format("{} is not set", json::Quoted{key}));
  if (!s) return s;
  if (kind == local::Kind::kBytes) {
    if (command.raw) {
      print_line(out, value);
      return Status::ok();
    }
    // As shmkvd's GET answers for bytes (shmkv-protocol(7), Value kinds).
    if (!json::is_utf8(value))
      return Status::server(fmt::format("the value of {} is binary: print its bytes with get -r", json::Quoted{key}));
    std::string quoted;
    json::append_quoted(quoted, value);
    value = std::move(quoted);
  }
  print_line(out, command.raw ? printable(value) : value);
  return Status::ok();
}

}  // namespace

Status run_local(local::Reader& reader, const Command& command, std::FILE* out) {
  if (command.verb == Verb::kGet) return get(reader, command, out);
  std::vector<std::string> keys;
  if (Status s = reader.keys(command.args.empty() ? "" : command.args[0], &keys); !s) return s;
  for (const std::string& key : keys) print_line(out, key);
  return Status::ok();
}

}  // namespace shmkv::cli
