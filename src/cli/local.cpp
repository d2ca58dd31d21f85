#include "cli/local.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "protocol/json.hpp"

namespace shmkv::cli {

bool runs_locally(const Command& command) { return command.verb == Verb::kGet || command.verb == Verb::kKeys; }

namespace {

// A segment mapped by the reader and then truncated (by its owner: shmkvd
// never does it) raises SIGBUS at the first read past its new end. The
// handler says so in one line and exits 3, shmkv's status for a store it
// cannot read, instead of dying as "Bus error". It only writes the message
// made before the reads began: a handler may call nothing that allocates.
char sigbus_message[1024];
std::size_t sigbus_length = 0;

void on_sigbus(int) {
  [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, sigbus_message, sigbus_length);
  _exit(3);
}

void catch_sigbus(const std::string& name) {
  if (sigbus_length > 0) return;  // done for an earlier command
  const std::string text = fmt::format(
      "shmkv: shared memory segment /dev/shm/{} was truncated while it was read (SIGBUS): shmkvd never does "
      "that, so the file's owner or a program it runs did: find what truncates it\n",
      name);
  sigbus_length = std::min(text.size(), sizeof sigbus_message);
  std::memcpy(sigbus_message, text.data(), sigbus_length);
  struct sigaction action {};
  action.sa_handler = on_sigbus;
  sigemptyset(&action.sa_mask);
  sigaction(SIGBUS, &action, nullptr);
}

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
    json::append_quoted_ascii(quoted, value);
    value = std::move(quoted);
  }
  print_line(out, command.raw ? printable(value) : value);
  return Status::ok();
}

}  // namespace

Status run_local(local::Reader& reader, const Command& command, std::FILE* out) {
  catch_sigbus(reader.name());
  if (command.verb == Verb::kGet) return get(reader, command, out);
  std::vector<std::string> keys;
  if (Status s = reader.keys(command.args.empty() ? "" : command.args[0], &keys); !s) return s;
  for (const std::string& key : keys) print_line(out, key);
  return Status::ok();
}

}  // namespace shmkv::cli
