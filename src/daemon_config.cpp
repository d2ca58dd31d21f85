#include "shmkv/daemon_config.hpp"

#include <getopt.h>

#include <charconv>
#include <fmt/format.h>

#include "shmkv/frame.hpp"
#include "shmkv/store.hpp"

namespace shmkv::daemon_config {

Status parse_size(std::string_view text, std::size_t* out) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end == text.data())
    return Status::invalid(fmt::format("'{}' is not a size (give bytes, or a number with K, M or G)", text));
  std::string_view suffix(end, static_cast<std::size_t>(text.data() + text.size() - end));
  int shift = 0;
  if (suffix == "K" || suffix == "k") shift = 10;
  else if (suffix == "M" || suffix == "m") shift = 20;
  else if (suffix == "G" || suffix == "g") shift = 30;
  else if (!suffix.empty())
    return Status::invalid(fmt::format("'{}' has an unknown suffix (use K, M or G)", text));
  if (n > (UINT64_MAX >> shift)) return Status::invalid(fmt::format("'{}' is too large", text));
  *out = static_cast<std::size_t>(n << shift);
  return Status::ok();
}

namespace {

Status parse_int(const char* option, std::string_view text, long long lo, long long hi, long long* out) {
  long long n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < lo || n > hi)
    return Status::invalid(fmt::format("--{} takes a whole number from {} to {}, not '{}'", option, lo, hi, text));
  *out = n;
  return Status::ok();
}

}  // namespace

std::string usage() {
  return "usage: shmkvd [--bind ADDRESS] [--port PORT] [--name NAME] [--memory SIZE]\n"
         "              [--max-message SIZE] [--idle-timeout SECONDS] [--backlog N]\n"
         "              [--log-level LEVEL]\n"
         "       shmkvd --help | --version\n"
         "\n"
         "Serve a shared-memory key-value dictionary over TCP.\n"
         "\n"
         "  -b, --bind ADDRESS        listen on this IPv4 or IPv6 address (default 127.0.0.1)\n"
         "  -p, --port PORT           listen on this TCP port (default 4444)\n"
         "  -n, --name NAME           shared memory segment name (default shmkv)\n"
         "  -m, --memory SIZE         segment size for a new store, K/M/G suffixes (default 64M)\n"
         "      --max-message SIZE    largest request body accepted (default 1M)\n"
         "      --idle-timeout SECONDS  close connections idle this long, 0 never (default 60)\n"
         "      --backlog N           listen backlog (default 511)\n"
         "      --log-level LEVEL     error, warning, info or debug (default info)\n"
         "  -h, --help                print this help and exit\n"
         "  -V, --version             print the version and exit\n"
         "\n"
         "See shmkvd(8).\n";
}

Status parse(int argc, char** argv, Config* config, Action* action) {
  enum { kMaxMessage = 256, kIdleTimeout, kBacklog, kLogLevel };
  static const option kOptions[] = {
      {"bind", required_argument, nullptr, 'b'},
      {"port", required_argument, nullptr, 'p'},
      {"name", required_argument, nullptr, 'n'},
      {"memory", required_argument, nullptr, 'm'},
      {"max-message", required_argument, nullptr, kMaxMessage},
      {"idle-timeout", required_argument, nullptr, kIdleTimeout},
      {"backlog", required_argument, nullptr, kBacklog},
      {"log-level", required_argument, nullptr, kLogLevel},
      {"help", no_argument, nullptr, 'h'},
      {"version", no_argument, nullptr, 'V'},
      {nullptr, 0, nullptr, 0},
  };
  *action = Action::kServe;
  optind = 1;
  opterr = 0;  // we word the errors ourselves
  for (;;) {
    const int prev = optind;
    const int c = getopt_long(argc, argv, ":b:p:n:m:hV", kOptions, nullptr);
    if (c == -1) break;
    const std::string_view arg = optarg ? optarg : "";
    long long n = 0;
    switch (c) {
      case 'b': config->bind = arg; break;
      case 'p':
        if (Status s = parse_int("port", arg, 1, 65535, &n); !s) return s;
        config->port = static_cast<std::uint16_t>(n);
        break;
      case 'n':
        if (arg.empty() || arg.find('/') != std::string_view::npos)
          return Status::invalid("--name takes a non-empty name without '/'");
        config->name = arg;
        break;
      case 'm':
        if (Status s = parse_size(arg, &config->memory); !s) return Status::invalid("--memory: " + s.message());
        if (config->memory < store::kMinimumSize) return Status::invalid("--memory must be at least 64K");
        break;
      case kMaxMessage:
        if (Status s = parse_size(arg, &config->max_message); !s)
          return Status::invalid("--max-message: " + s.message());
        if (config->max_message < 64 || config->max_message > (std::size_t(1) << 30))
          return Status::invalid("--max-message must be from 64 bytes to 1G");
        break;
      case kIdleTimeout:
        if (Status s = parse_int("idle-timeout", arg, 0, 86400 * 365, &n); !s) return s;
        config->idle_timeout_s = static_cast<int>(n);
        break;
      case kBacklog:
        if (Status s = parse_int("backlog", arg, 1, 65535, &n); !s) return s;
        config->backlog = static_cast<int>(n);
        break;
      case kLogLevel:
        if (!log::parse_level(arg, &config->log_level))
          return Status::invalid(fmt::format("--log-level takes error, warning, info or debug, not '{}'", arg));
        break;
      case 'h': *action = Action::kHelp; return Status::ok();
      case 'V': *action = Action::kVersion; return Status::ok();
      case ':': return Status::invalid(fmt::format("{} needs a value", argv[prev]));
      default: return Status::invalid(fmt::format("unknown option {}", argv[prev]));
    }
  }
  if (optind < argc) return Status::invalid(fmt::format("unexpected argument '{}'", argv[optind]));
  return Status::ok();
}

}  // namespace shmkv::daemon_config
