// libFuzzer target for RESP (src/resp/parser.cpp, commands.cpp, writer.cpp,
// glob.cpp, value_mapping.cpp, keyspace.cpp): each input is the bytes a
// client sends. They are parsed whole and again in pieces (cut where the
// input's first byte says), which must give the same commands or the same
// error; every command is answered by a Session over an in-process store,
// and every reply must be exactly one well-formed RESP2 or RESP3 value.
// Built by `make fuzz`.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "common/log.hpp"
#include "daemon/scoreboard.hpp"
#include "resp/commands.hpp"
#include "resp/keyspace.hpp"
#include "resp/parser.hpp"
#include "store/store.hpp"

using namespace shmkv;

namespace {

constexpr std::size_t kMaxBulk = 256;

[[noreturn]] void broken(const char* what, std::string_view reply) {
  fprintf(stderr, "invariant broken: %s; reply: %s\n", what, log::excerpt(reply).c_str());
  abort();
}

// skip_value returns the length of the one RESP value at the start of s, or
// 0 when s does not start with a whole well-formed value.
std::size_t skip_value(std::string_view s, int depth = 0) {
  if (s.empty() || depth > 8) return 0;
  const std::size_t cr = s.find("\r\n");
  if (cr == std::string_view::npos) return 0;
  const std::string_view line = s.substr(1, cr - 1);
  const std::size_t head = cr + 2;
  auto number = [&](long long* n) {
    char* end = nullptr;
    const std::string text(line);
    *n = std::strtoll(text.c_str(), &end, 10);
    return !text.empty() && *end == '\0';
  };
  long long n = 0;
  switch (s[0]) {
    case '+':
    case '-':
      return line.find('\r') == std::string_view::npos && line.find('\n') == std::string_view::npos ? head : 0;
    case ':': return number(&n) ? head : 0;
    case '_': return line.empty() ? head : 0;
    case '=':  // a verbatim string (INFO after HELLO 3): "txt:" and the text
      if (!number(&n) || n < 4 || s.size() < head + static_cast<std::size_t>(n) + 2 || s[head + 3] != ':') return 0;
      return s.substr(head + static_cast<std::size_t>(n), 2) == "\r\n" ? head + static_cast<std::size_t>(n) + 2 : 0;
    case '$':
      if (!number(&n)) return 0;
      if (n == -1) return head;
      if (n < 0 || s.size() < head + static_cast<std::size_t>(n) + 2) return 0;
      return s.substr(head + static_cast<std::size_t>(n), 2) == "\r\n" ? head + static_cast<std::size_t>(n) + 2 : 0;
    case '*':
    case '%': {
      if (!number(&n)) return 0;
      if (n == -1 && s[0] == '*') return head;
      if (n < 0) return 0;
      std::size_t at = head;
      const long long items = s[0] == '%' ? 2 * n : n;
      for (long long i = 0; i < items; ++i) {
        const std::size_t len = skip_value(s.substr(at), depth + 1);
        if (len == 0) return 0;
        at += len;
      }
      return at;
    }
    default: return 0;
  }
}

struct Parsed {
  std::vector<std::vector<std::string>> commands;
  std::string error;
};

Parsed parse_in_pieces(std::string_view input, std::size_t piece) {
  resp::RequestParser parser(kMaxBulk);
  Parsed out;
  std::vector<std::string_view> args;
  std::size_t start = 0, available = 0;
  for (;;) {
    available = piece == 0 ? input.size() : std::min(input.size(), available + piece);
    for (;;) {
      std::size_t consumed = 0;
      const resp::Parsed p = parser.parse(input.substr(start, available - start), &args, &consumed, &out.error);
      if (p == resp::Parsed::kError) return out;
      if (p == resp::Parsed::kNeedMore) break;
      if (consumed == 0 || start + consumed > available) broken("consumed nothing, or more than given", "");
      start += consumed;
      if (!args.empty()) out.commands.emplace_back(args.begin(), args.end());
    }
    if (available == input.size()) return out;
  }
}

struct World {
  std::string name = fmt::format("shmkv-resp-fuzz-{}", getpid());
  std::unique_ptr<store::Store> store;
  scoreboard::Scoreboard* board = scoreboard::Scoreboard::create(4);
  std::unique_ptr<resp::Keyspace> keyspace;
  std::string out;
  std::unique_ptr<resp::Session> session;

  World() {
    log::set_level(log::Level::kError);
    store::Store::remove(name);
    if (!store::Store::open(name, std::size_t(1) << 20, &store)) abort();
    keyspace = std::make_unique<resp::Keyspace>(*store, *board, nullptr);
    session = std::make_unique<resp::Session>(*keyspace, resp::Session::Config{6379, 4}, out);
    atexit([] { store::Store::remove(fmt::format("shmkv-resp-fuzz-{}", getpid())); });
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World world;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const Parsed whole = parse_in_pieces(input, 0);
  const Parsed pieces = parse_in_pieces(input, size ? 1 + data[0] % 7 : 1);
  if (whole.commands != pieces.commands || whole.error != pieces.error)
    broken("parsing in pieces differs from parsing whole", input);
  if (!whole.error.empty() && whole.error.rfind("ERR Protocol error: ", 0) != 0) broken("bad error text", whole.error);

  world.session->begin();
  for (const auto& command : whole.commands) {
    const std::vector<std::string_view> args(command.begin(), command.end());
    world.out.clear();
    world.session->execute(args);
    world.session->flush();
    if (skip_value(world.out) != world.out.size()) broken("not exactly one RESP value", world.out);
  }
  return 0;
}
