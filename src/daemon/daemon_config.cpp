#include "daemon/daemon_config.hpp"

#include <getopt.h>
#include <grp.h>

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <vector>

#include "protocol/frame.hpp"
#include "store/store.hpp"

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

// parse_group reads a group's name or number.
Status parse_group(std::string_view arg, gid_t* gid) {
  const std::string name(arg);
  std::vector<char> buffer(16384);
  group entry{};
  group* found = nullptr;
  const int err = getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (found) {
    *gid = found->gr_gid;
    return Status::ok();
  }
  unsigned long number = 0;
  auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), number);
  if (!arg.empty() && ec == std::errc() && end == arg.data() + arg.size() && number < static_cast<gid_t>(-1)) {
    *gid = static_cast<gid_t>(number);
    return Status::ok();
  }
  if (err != 0) return Status::invalid(errno_text(fmt::format("--segment-group {}", arg), err));
  return Status::invalid(fmt::format("--segment-group: no group '{}' (see getent group)", arg));
}

}  // namespace

std::string usage() {
  return "usage: shmkvd [--bind ADDRESS] [--port PORT] [--socket PATH] [--socket-mode MODE]\n"
         "              [--resp-port PORT] [--resp-socket PATH]\n"
         "              [--name NAME] [--memory SIZE] [--max-message SIZE]\n"
         "              [--segment-mode MODE] [--segment-group GROUP]\n"
         "              [--max-children N] [--spare-workers N] [--worker-max-connections N]\n"
         "              [--worker-scheduling batch|other]\n"
         "              [--idle-timeout SECONDS] [--request-timeout SECONDS]\n"
         "              [--lock-timeout SECONDS] [--backlog N]\n"
         "              [--shutdown-timeout SECONDS] [--daemonize] [--pidfile PATH]\n"
         "              [--snapshot PATH] [--snapshot-interval SECONDS]\n"
         "              [--log-level LEVEL] [--debug-commands]\n"
         "       shmkvd --remove-store [--name NAME]\n"
         "       shmkvd --help | --version\n"
         "\n"
         "Serve a shared-memory key-value dictionary over TCP and UNIX sockets.\n"
         "\n"
         "  -b, --bind ADDRESS          listen on this IPv4 or IPv6 address (default 127.0.0.1)\n"
         "  -p, --port PORT             listen on this TCP port, 0 for none (default 4444)\n"
         "  -s, --socket PATH           listen on a UNIX socket at PATH too\n"
         "      --socket-mode MODE      octal mode of the UNIX sockets (default 0660)\n"
         "      --resp-port PORT        speak RESP (Redis's protocol) on this TCP port too,\n"
         "                              0 for none (default 0)\n"
         "      --resp-socket PATH      speak RESP on a UNIX socket at PATH too\n"
         "  -n, --name NAME             shared memory segment name (default shmkv)\n"
         "  -m, --memory SIZE           segment size for a new store, 64K to 32G (default 64M)\n"
         "      --segment-mode MODE     octal mode of the segment: 0600, or 0640, 0604 or 0644\n"
         "                              to let local readers read every key (default 0600)\n"
         "      --segment-group GROUP   group of the segment, for --segment-mode 0640\n"
         "      --max-message SIZE      largest request body accepted (default 1M)\n"
         "      --max-children N        most workers at once; then new clients wait (default 512)\n"
         "      --spare-workers N       idle workers kept for new connections, 0 for a fork\n"
         "                              per connection (default 16)\n"
         "      --worker-max-connections N  retire a worker after N connections (default 10000)\n"
         "      --worker-scheduling batch|other  run the workers under SCHED_BATCH, so that a\n"
         "                              request does not preempt its sender, or keep the\n"
         "                              policy shmkvd runs under (default batch)\n"
         "      --idle-timeout SECONDS  close connections idle this long, 0 never (default 60)\n"
         "      --request-timeout SECONDS  close a connection whose request has not arrived whole\n"
         "                              this long after its first byte, 0 never (default 10)\n"
         "      --lock-timeout SECONDS  kill a worker that holds the store lock this long,\n"
         "                              then rebuild the store; 0 never (default 5)\n"
         "      --backlog N             listen backlog (default 511)\n"
         "      --shutdown-timeout SECONDS  on SIGTERM, kill workers still busy after this (default 10)\n"
         "  -d, --daemonize             detach from the terminal; log to syslog\n"
         "      --pidfile PATH          write the daemon's pid to PATH\n"
         "      --snapshot PATH         keep a snapshot of the store in PATH: loaded at start\n"
         "                              into a new store, written on SAVE and at shutdown\n"
         "      --snapshot-interval SECONDS  also write it this often when the store changed,\n"
         "                              0 only on SAVE and at shutdown (default 60)\n"
         "      --log-level LEVEL       error, warning, info or debug (default info)\n"
         "      --debug-commands        answer DEBUG requests (for testing only)\n"
         "      --remove-store          remove the segment --name and exit\n"
         "  -h, --help                  print this help and exit\n"
         "  -V, --version               print the version and exit\n"
         "\n"
         "See shmkvd(8).\n";
}

Status parse(int argc, char** argv, Config* config, Action* action) {
  enum {
    kMaxMessage = 256, kIdleTimeout, kBacklog, kLogLevel, kSocketMode, kMaxChildren, kShutdownTimeout,
    kPidfile, kRemoveStore, kSpareWorkers, kWorkerMaxConnections, kDebugCommands, kRequestTimeout,
    kLockTimeout, kSnapshot, kSnapshotInterval, kRespPort, kRespSocket, kSegmentMode, kSegmentGroup,
    kWorkerScheduling
  };
  static const option kOptions[] = {
      {"bind", required_argument, nullptr, 'b'},
      {"port", required_argument, nullptr, 'p'},
      {"socket", required_argument, nullptr, 's'},
      {"socket-mode", required_argument, nullptr, kSocketMode},
      {"resp-port", required_argument, nullptr, kRespPort},
      {"resp-socket", required_argument, nullptr, kRespSocket},
      {"name", required_argument, nullptr, 'n'},
      {"memory", required_argument, nullptr, 'm'},
      {"segment-mode", required_argument, nullptr, kSegmentMode},
      {"segment-group", required_argument, nullptr, kSegmentGroup},
      {"max-message", required_argument, nullptr, kMaxMessage},
      {"max-children", required_argument, nullptr, kMaxChildren},
      {"spare-workers", required_argument, nullptr, kSpareWorkers},
      {"worker-max-connections", required_argument, nullptr, kWorkerMaxConnections},
      {"worker-scheduling", required_argument, nullptr, kWorkerScheduling},
      {"idle-timeout", required_argument, nullptr, kIdleTimeout},
      {"request-timeout", required_argument, nullptr, kRequestTimeout},
      {"lock-timeout", required_argument, nullptr, kLockTimeout},
      {"backlog", required_argument, nullptr, kBacklog},
      {"shutdown-timeout", required_argument, nullptr, kShutdownTimeout},
      {"daemonize", no_argument, nullptr, 'd'},
      {"pidfile", required_argument, nullptr, kPidfile},
      {"snapshot", required_argument, nullptr, kSnapshot},
      {"snapshot-interval", required_argument, nullptr, kSnapshotInterval},
      {"log-level", required_argument, nullptr, kLogLevel},
      {"remove-store", no_argument, nullptr, kRemoveStore},
      {"debug-commands", no_argument, nullptr, kDebugCommands},
      {"help", no_argument, nullptr, 'h'},
      {"version", no_argument, nullptr, 'V'},
      {nullptr, 0, nullptr, 0},
  };
  *action = Action::kServe;
  optind = 1;
  opterr = 0;  // we word the errors ourselves
  for (;;) {
    const int prev = optind;
    const int c = getopt_long(argc, argv, ":b:p:s:n:m:dhV", kOptions, nullptr);
    if (c == -1) break;
    const std::string_view arg = optarg ? optarg : "";
    long long n = 0;
    switch (c) {
      case 'b': config->bind = arg; break;
      case 'p':
        if (Status s = parse_int("port", arg, 0, 65535, &n); !s) return s;
        config->port = static_cast<std::uint16_t>(n);
        break;
      case 's':
        if (arg.empty()) return Status::invalid("--socket takes a path");
        config->socket_path = std::filesystem::absolute(arg).string();
        break;
      case kRespPort:
        if (Status s = parse_int("resp-port", arg, 0, 65535, &n); !s) return s;
        config->resp_port = static_cast<std::uint16_t>(n);
        break;
      case kRespSocket:
        if (arg.empty()) return Status::invalid("--resp-socket takes a path");
        config->resp_socket_path = std::filesystem::absolute(arg).string();
        break;
      case kSocketMode: {
        unsigned mode = 0;
        auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), mode, 8);
        if (ec != std::errc() || end != arg.data() + arg.size() || mode > 0777)
          return Status::invalid(fmt::format("--socket-mode takes an octal mode such as 0660, not '{}'", arg));
        config->socket_mode = mode;
        break;
      }
      case kSegmentMode: {
        // The owner reads and writes; others may at most read: a local
        // reader maps the segment read-only (shmkvd(8), --segment-mode).
        unsigned mode = 0;
        auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), mode, 8);
        using store::SegmentAccess;
        if (ec != std::errc() || end != arg.data() + arg.size() || (mode & ~SegmentAccess::kMostOpen) != 0 ||
            (mode & SegmentAccess::kOwnerOnly) != SegmentAccess::kOwnerOnly)
          return Status::invalid(fmt::format(
              "--segment-mode takes 0600, 0640, 0604 or 0644 (other users may only read), not '{}'", arg));
        config->segment.mode = mode;
        break;
      }
      case kSegmentGroup:
        if (Status s = parse_group(arg, &config->segment.group); !s) return s;
        break;
      case 'n':
        // /dev/shm names are 255 bytes at most, and a recovery makes
        // NAME.salvage beside the store: 8 bytes more.
        if (arg.empty() || arg.find('/') != std::string_view::npos || arg == "." || arg == ".." || arg.size() > 247)
          return Status::invalid("--name takes a name of 1 to 247 bytes without '/', other than . and ..");
        config->name = arg;
        break;
      case 'm':
        if (Status s = parse_size(arg, &config->memory); !s) return Status::invalid("--memory: " + s.message());
        if (config->memory < store::kMinimumSize || config->memory > store::kMaximumSize)
          return Status::invalid("--memory must be from 64K to 32G");
        break;
      case kMaxMessage:
        if (Status s = parse_size(arg, &config->max_message); !s)
          return Status::invalid("--max-message: " + s.message());
        if (config->max_message < 64 || config->max_message > (std::size_t(1) << 30))
          return Status::invalid("--max-message must be from 64 bytes to 1G");
        break;
      case kMaxChildren:
        if (Status s = parse_int("max-children", arg, 1, 100000, &n); !s) return s;
        config->max_children = static_cast<int>(n);
        break;
      case kSpareWorkers:
        if (Status s = parse_int("spare-workers", arg, 0, 100000, &n); !s) return s;
        config->spare_workers = static_cast<int>(n);
        break;
      case kWorkerMaxConnections:
        if (Status s = parse_int("worker-max-connections", arg, 1, 1000000000000LL, &n); !s) return s;
        config->worker_max_connections = static_cast<std::uint64_t>(n);
        break;
      case kWorkerScheduling:
        if (arg != "batch" && arg != "other")
          return Status::invalid(fmt::format("--worker-scheduling takes batch or other, not '{}'", arg));
        config->batch_scheduling = arg == "batch";
        break;
      case kIdleTimeout:
        if (Status s = parse_int("idle-timeout", arg, 0, 86400 * 365, &n); !s) return s;
        config->idle_timeout_s = static_cast<int>(n);
        break;
      case kRequestTimeout:
        if (Status s = parse_int("request-timeout", arg, 0, 86400, &n); !s) return s;
        config->request_timeout_s = static_cast<int>(n);
        break;
      case kLockTimeout:
        if (Status s = parse_int("lock-timeout", arg, 0, 3600, &n); !s) return s;
        config->lock_timeout_s = static_cast<int>(n);
        break;
      case kBacklog:
        if (Status s = parse_int("backlog", arg, 1, 65535, &n); !s) return s;
        config->backlog = static_cast<int>(n);
        break;
      case kShutdownTimeout:
        if (Status s = parse_int("shutdown-timeout", arg, 0, 3600, &n); !s) return s;
        config->shutdown_timeout_s = static_cast<int>(n);
        break;
      case 'd': config->daemonize = true; break;
      case kPidfile:
        if (arg.empty()) return Status::invalid("--pidfile takes a path");
        config->pidfile = std::filesystem::absolute(arg).string();
        break;
      case kSnapshot:
        if (arg.empty() || arg.back() == '/') return Status::invalid("--snapshot takes a file's path");
        config->snapshot_path = std::filesystem::absolute(arg).string();
        break;
      case kSnapshotInterval:
        if (Status s = parse_int("snapshot-interval", arg, 0, 86400 * 365, &n); !s) return s;
        config->snapshot_interval_s = static_cast<int>(n);
        break;
      case kLogLevel:
        if (!log::parse_level(arg, &config->log_level))
          return Status::invalid(fmt::format("--log-level takes error, warning, info or debug, not '{}'", arg));
        break;
      case kRemoveStore: *action = Action::kRemoveStore; break;
      case kDebugCommands: config->debug_commands = true; break;
      case 'h': *action = Action::kHelp; return Status::ok();
      case 'V': *action = Action::kVersion; return Status::ok();
      case ':': return Status::invalid(fmt::format("{} needs a value", argv[prev]));
      default: return Status::invalid(fmt::format("unknown option {}", argv[prev]));
    }
  }
  if (optind < argc) return Status::invalid(fmt::format("unexpected argument '{}'", argv[optind]));
  // The test hooks' environment variables count only with --debug-commands.
  const auto debug_ms = [&](const char* variable, int* out) {
    const char* text = std::getenv(variable);
    if (!text || !config->debug_commands) return Status::ok();
    long long ms = 0;
    if (Status s = parse_int(variable, text, 0, 600000, &ms); !s)
      return Status::invalid(s.message().substr(2));  // an environment variable, not an option
    *out = static_cast<int>(ms);
    return Status::ok();
  };
  if (Status s = debug_ms("SHMKVD_DEBUG_SALVAGE_DELAY_MS", &config->debug_salvage_delay_ms); !s) return s;
  if (Status s = debug_ms("SHMKVD_DEBUG_SNAPSHOT_DELAY_MS", &config->debug_snapshot_delay_ms); !s) return s;
  if (Status s = debug_ms("SHMKVD_DEBUG_SNAPSHOT_COPY_PAUSE_MS", &config->debug_snapshot_copy_pause_ms); !s) return s;
  if (*action == Action::kServe && config->port == 0 && config->socket_path.empty() && config->resp_port == 0 &&
      config->resp_socket_path.empty())
    return Status::invalid("--port 0 turns TCP off, so give a UNIX socket with --socket");
  if (config->resp_port != 0 && config->resp_port == config->port)
    return Status::invalid("--resp-port must differ from --port");
  if (!config->resp_socket_path.empty() && config->resp_socket_path == config->socket_path)
    return Status::invalid("--resp-socket must differ from --socket");
  return Status::ok();
}

}  // namespace shmkv::daemon_config
