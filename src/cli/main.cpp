// shmkv: the command-line client. It reads its options and environment, then
// runs one command given as arguments, or, with none, the commands on standard
// input, one a line, over one connection (with a prompt when that is a
// terminal). The commands themselves live in src/cli/cli.cpp. Exit status, for
// scripts: 0 done, 1 key not found (or a conditional put not stored), 2 usage
// error, 3 connection or server error; every error is one line on standard error.
// With --local NAME, get and keys read the store's segment on this host
// directly (src/cli/local.cpp), and no connection is made.

#include <getopt.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <functional>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "cli/cli.hpp"
#include "cli/dump.hpp"
#include "cli/local.hpp"
#include "client/printable.hpp"
#include "common/standard_fds.hpp"
#include "shmkv/client.hpp"
#include "shmkv/version.hpp"

namespace {

using namespace shmkv;

enum Exit { kOk = 0, kNotFound = 1, kUsage = 2, kFailed = 3 };

constexpr char kUsageText[] =
    "usage: shmkv [-h HOST] [-p PORT] [-s SOCKET] [-t SECONDS] [COMMAND [ARG ...]]\n"
    "       shmkv --local NAME [COMMAND [ARG ...]]\n"
    "       shmkv --help | --version\n"
    "\n"
    "Read and write values in a shmkvd store. With no COMMAND, run the commands\n"
    "on standard input, one a line, over one connection.\n"
    "\n"
    "  -h, --host HOST       server host name or address (default 127.0.0.1)\n"
    "  -p, --port PORT       server TCP port (default 4444)\n"
    "  -s, --socket SOCKET   server UNIX socket, instead of a host and port\n"
    "  -t, --timeout SECONDS connect and reply timeout, may be fractional, 0 none\n"
    "                        (default 5)\n"
    "      --local NAME      read the store of shmkvd --name NAME on this host\n"
    "                        straight from its shared memory, without a\n"
    "                        connection: get and keys only\n"
    "      --help            print this help and exit\n"
    "      --version         print the version and exit\n"
    "\n"
    "Commands:\n"
    "  get [-r] KEY           print the value of KEY as JSON; exit 1 if not set\n"
    "                         (-r, --raw: a string without quotes and escapes)\n"
    "  put KEY JSON           store the JSON value under KEY (JSON -: read stdin)\n"
    "  put --string KEY TEXT  store TEXT as a JSON string (TEXT -: read stdin)\n"
    "      put options, before KEY: --ttl SECONDS  expire the key SECONDS from now\n"
    "                        --if-absent, --if-present  store only if KEY is not\n"
    "                        set, or is set; exit 1 when not stored\n"
    "  del KEY                delete KEY; exit 1 if it was not set\n"
    "  incr KEY [BY]          add BY (default 1) to the integer under KEY, atomically,\n"
    "                         and print the result; an absent KEY counts as 0\n"
    "  expire KEY SECONDS|none  expire KEY SECONDS from now, or never; exit 1 if\n"
    "                         it is not set\n"
    "  ttl KEY                print the seconds before KEY expires, -1 for never;\n"
    "                         exit 1 if it is not set\n"
    "  keys [PREFIX]          list the keys that start with PREFIX, one a line\n"
    "  stats [--json]         print the server's statistics, aligned or as JSON\n"
    "  call FUNC [PARAMS]     send any request (PARAMS: JSON, default {}) and\n"
    "                         print the reply\n"
    "  save                   have the server write its snapshot now\n"
    "  dump [--format json|resp] [PREFIX]  write the keys that start with PREFIX\n"
    "                         as JSON lines, or as RESP SET commands for redis-cli\n"
    "  restore [FILE]         PUT the keys of a JSON-lines dump (default: stdin)\n"
    "\n"
    "Environment: SHMKV_HOST, SHMKV_PORT, SHMKV_SOCKET; options override them.\n"
    "Exit status: 0 done, 1 key not found (or put's condition failed), 2 usage\n"
    "error, 3 connection or server error.\n"
    "See shmkv(1).\n";

// Set with --local: errors then come from the segment, not a connection,
// and their messages say what to do themselves.
bool local_mode = false;

// report prints s as one line on stderr, with what to do about it, and
// returns the exit status for it. where names the input line, if any.
int report(const Status& s, std::string_view where = "") {
  std::string_view hint;
  int exit = kFailed;
  switch (local_mode && s.code() != Status::Code::kInvalid ? Status::Code::kOk : s.code()) {
    case Status::Code::kNotFound: exit = kNotFound; break;
    case Status::Code::kInvalid:
      hint = " (see 'shmkv --help')";
      exit = kUsage;
      break;
    case Status::Code::kIo:
      if (s.message().starts_with(cli::kDumpFileError)) break;  // restore's FILE, not the connection
      hint = " (is shmkvd running there? choose it with -h and -p, or -s)";
      break;
    case Status::Code::kTimeout: hint = " (is the server overloaded or stopped? wait longer with -t)"; break;
    case Status::Code::kCorrupt: hint = " (is that a shmkvd server? check -h, -p and -s)"; break;
    // An error reply leaves the store as it was (shmkv-protocol(7), Errors).
    case Status::Code::kServer: hint = " (nothing was changed; shmkvd's log may say more)"; break;
    default: break;
  }
  if (s.code() == Status::Code::kNotFound) exit = kNotFound;
  std::fflush(stdout);  // keep the order of output and errors on one terminal
  // A message may carry a server's words: control bytes in it would break
  // the line or drive the terminal.
  fmt::print(stderr, "shmkv: {}{}{}\n", where, client::printable(s.message()), hint);
  return exit;
}

int usage_error(const std::string& message) { return report(Status::invalid(message)); }

bool parse_port(std::string_view text, std::uint16_t* port) {
  unsigned n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 1 || n > 65535) return false;
  *port = static_cast<std::uint16_t>(n);
  return true;
}

// connection_lost tells the statuses after which the commands that follow
// cannot be trusted to run, from those of one command that failed.
bool connection_lost(const Status& s) {
  return s.code() == Status::Code::kIo || s.code() == Status::Code::kTimeout || s.code() == Status::Code::kCorrupt;
}

// Runner runs one prepared command: through a connection, or with --local
// through a local reader.
using Runner = std::function<Status(const cli::Command&)>;

int run_one(const Runner& run, const cli::Command& command) {
  if (Status s = run(command); !s) return report(s);
  return kOk;
}

// run_lines runs the commands on standard input. A command that fails is
// reported with its line number and the next one runs; in a script (not a
// terminal) a lost connection stops the run. The exit status is the worst of
// the commands'.
int run_lines(const Runner& run) {
  const bool interactive = isatty(STDIN_FILENO);
  int worst = kOk;
  char* buffer = nullptr;
  std::size_t size = 0;
  for (long line_number = 1;; ++line_number) {
    if (interactive) {
      std::fputs("shmkv> ", stdout);
      std::fflush(stdout);
    }
    errno = 0;
    const ssize_t n = getline(&buffer, &size, stdin);
    if (n < 0) {
      // The end of input, or a read error (a directory, ENOMEM on an endless
      // line), which getline does not always flag with ferror.
      if (std::ferror(stdin) || !std::feof(stdin)) {
        std::fflush(stdout);
        fmt::print(stderr, "shmkv: {}\n", errno_text(fmt::format("read standard input after line {}", line_number - 1),
                                                      errno ? errno : EIO));
        worst = kFailed;
      }
      break;
    }
    std::string_view line(buffer, static_cast<std::size_t>(n));
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    // A script saved with CRLF line ends: the \r is not part of the command,
    // as restore takes it.
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    cli::Command command;
    bool blank = false;
    Status s = cli::parse_line(line, &command, &blank);
    if (blank) continue;
    if (s) s = cli::prepare(&command, nullptr);
    if (s) s = run(command);
    // Each command's output is out before the next command is read, so that
    // a program driving shmkv through pipes (a coprocess) can wait for it.
    std::fflush(stdout);
    if (s) continue;
    worst = std::max(worst, report(s, fmt::format("line {}: ", line_number)));
    if (!interactive && connection_lost(s)) {
      fmt::print(stderr, "shmkv: stopped at line {}: the commands after it were not run\n", line_number);
      break;
    }
  }
  std::free(buffer);
  if (interactive) std::fputc('\n', stdout);
  return worst;
}

}  // namespace

namespace {

// run_program is shmkv; main adds what must come before and around it.
int run_program(int argc, char** argv) {
  enum { kOptHelp = 256, kOptVersion, kOptLocal };
  static const option kOptions[] = {
      {"host", required_argument, nullptr, 'h'},      {"port", required_argument, nullptr, 'p'},
      {"socket", required_argument, nullptr, 's'},    {"timeout", required_argument, nullptr, 't'},
      {"help", no_argument, nullptr, kOptHelp},       {"version", no_argument, nullptr, kOptVersion},
      {"local", required_argument, nullptr, kOptLocal},
      {nullptr, 0, nullptr, 0},
  };
  client::Endpoint endpoint;
  bool have_host = false, have_port = false, have_socket = false, have_timeout = false;
  std::string local_name;
  opterr = 0;
  // "+": stop at the command, so that a key such as -1 is not an option.
  for (;;) {
    const int prev = optind;
    const int c = getopt_long(argc, argv, "+:h:p:s:t:", kOptions, nullptr);
    if (c == -1) break;
    const std::string_view arg = optarg ? optarg : "";
    switch (c) {
      case 'h':
        endpoint.host = arg;
        have_host = true;
        break;
      case 'p':
        if (!parse_port(arg, &endpoint.port))
          return usage_error(fmt::format("-p takes a port from 1 to 65535, not '{}'", arg));
        have_port = true;
        break;
      case 's':
        // An empty path would mean TCP to the default host and port.
        if (arg.empty()) return usage_error("-s needs a socket path, not ''");
        endpoint.socket_path = arg;
        have_socket = true;
        break;
      case 't': {
        char* end = nullptr;
        const double seconds = std::strtod(optarg, &end);
        if (end == optarg || *end != '\0' || !(seconds >= 0) || seconds > 86400)
          return usage_error(fmt::format("-t takes seconds from 0 to 86400, e.g. 2 or 0.5, not '{}'", arg));
        endpoint.timeout_ms = static_cast<int>(std::ceil(seconds * 1000));  // never 0 (forever) by rounding
        have_timeout = true;
        break;
      }
      case kOptLocal:
        local_name = arg;
        local_mode = true;
        break;
      case kOptHelp: std::fputs(kUsageText, stdout); return kOk;
      case kOptVersion: std::printf("shmkv %s\n", kVersion); return kOk;
      case ':': return usage_error(fmt::format("{} needs a value", argv[prev]));
      default: return usage_error(fmt::format("unknown option {}", argv[prev]));
    }
  }
  if (have_socket && (have_host || have_port))
    return usage_error("-s names a UNIX socket, so -h and -p cannot go with it");
  if (local_mode && (have_socket || have_host || have_port || have_timeout))
    return usage_error("--local reads the segment on this host, so -h, -p, -s and -t cannot go with it");

  // The environment fills in what the options left open; an option for TCP
  // outranks SHMKV_SOCKET, and -s outranks SHMKV_HOST and SHMKV_PORT.
  if (!have_socket && !have_host && !have_port) {
    if (const char* socket = std::getenv("SHMKV_SOCKET"); socket && *socket) endpoint.socket_path = socket;
  }
  if (!have_socket && !have_host) {
    if (const char* host = std::getenv("SHMKV_HOST"); host && *host) endpoint.host = host;
  }
  if (!have_socket && !have_port) {
    if (const char* port = std::getenv("SHMKV_PORT"); port && *port && !parse_port(port, &endpoint.port))
      return usage_error(fmt::format("SHMKV_PORT must be a port from 1 to 65535, not '{}'", port));
  }

  // A command on the command line is checked in full before connecting, so
  // that a usage error is reported as one whatever the server's state.
  const bool from_stdin = optind == argc;
  cli::Command command;
  if (!from_stdin) {
    const std::vector<std::string_view> words(argv + optind, argv + argc);
    if (Status s = cli::parse_args(words, &command); !s) return report(s);
    if (local_mode && !cli::runs_locally(command))
      return usage_error("--local answers get and keys only: the other commands go through shmkvd");
    if (Status s = cli::prepare(&command, stdin); !s) {
      if (s.code() != Status::Code::kIo) return report(s);
      fmt::print(stderr, "shmkv: {}\n", s.message());  // not the connection: no hint about one
      return kFailed;
    }
  }

  std::unique_ptr<client::Client> client;
  std::unique_ptr<local::Reader> reader;
  Runner run;
  if (local_mode) {
    // No segment is a failure to reach the store (3), not a key not set (1).
    if (Status s = local::Reader::open(local_name, &reader); !s)
      return report(s.is_not_found() ? Status::io(s.message()) : s);
    run = [&](const cli::Command& c) {
      if (!cli::runs_locally(c))
        return Status::invalid("--local answers get and keys only: the other commands go through shmkvd");
      return cli::run_local(*reader, c, stdout);
    };
  } else {
    if (Status s = client::Client::connect(endpoint, &client); !s) return report(s);
    run = [&](const cli::Command& c) { return cli::run(*client, c, stdout); };
  }
  const int status = from_stdin ? run_lines(run) : run_one(run, command);
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::perror("shmkv: write standard output");
    return kFailed;
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  // The connection must never be 0, 1 or 2: what shmkv prints would be sent
  // to the server as requests, or the server's bytes read as commands.
  if (!standard_fds::open_closed()) {
    std::perror("shmkv: opening /dev/null on a closed standard descriptor");
    return kFailed;
  }
  try {
    return run_program(argc, argv);
  } catch (const std::bad_alloc&) {  // a value too large for a ulimit -v, say
    std::fflush(stdout);
    std::fputs("shmkv: out of memory: the value or reply is too large for this process\n", stderr);
    return kFailed;
  }
}
