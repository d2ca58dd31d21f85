// shmkv-bench: a load generator for shmkvd in the spirit of redis-benchmark.
// This file reads the command line, runs the load (loadgen.cpp, one thread,
// epoll; or with --local, local_load.cpp, reader processes) and reports: a
// summary for people, or one JSON object with --json.
// Exit status: 0 every reply was right, 1 any error (error reply, wrong reply,
// connection error), 2 usage error, 3 the server could not be reached.

#include <getopt.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <string>
#include <string_view>
#include <vector>

#include "client/printable.hpp"
#include "common/standard_fds.hpp"
#include "loadgen/loadgen.hpp"
#include "loadgen/local_load.hpp"
#include "protocol/json.hpp"
#include "shmkv/version.hpp"

namespace {

using namespace shmkv;

enum Exit { kOk = 0, kErrors = 1, kUsage = 2, kNoServer = 3 };

constexpr char kUsageText[] =
    "usage: shmkv-bench [-h HOST] [-p PORT | -s PATH] [-c CONNECTIONS]\n"
    "                   [-n REQUESTS | -d SECONDS] [--mode conn|keep] [-P DEPTH]\n"
    "                   [-r KEYS] [--sequential] [--get-ratio RATIO | --incr]\n"
    "                   [--value-size BYTES] [-t SECONDS] [--json]\n"
    "       shmkv-bench --local NAME [-h HOST] [-p PORT | -s PATH] [-c READERS]\n"
    "                   [-n REQUESTS | -d SECONDS] [-r KEYS] [--sequential]\n"
    "                   [--value-size BYTES] [-t SECONDS] [--json]\n"
    "       shmkv-bench --help | --version\n"
    "\n"
    "Send GET and PUT requests to shmkvd from many connections, check every\n"
    "reply, and report requests per second and latency percentiles. With\n"
    "--local, GET the keys straight from shmkvd's segment NAME instead.\n"
    "\n"
    "  -h, --host HOST          server host name or address (default 127.0.0.1)\n"
    "  -p, --port PORT          server TCP port (default 4444)\n"
    "  -s, --socket PATH        connect to the UNIX socket at PATH instead of TCP\n"
    "  -c, --connections N      concurrent connections (default 50)\n"
    "  -n, --requests N         total requests (default 100000)\n"
    "  -d, --duration SECONDS   send requests for this long instead of -n\n"
    "      --mode conn|keep     conn: protocol version 1, one request per connection;\n"
    "                           keep: version 2, persistent connections (default keep)\n"
    "  -P, --pipeline DEPTH     requests in flight per connection, keep mode (default 1)\n"
    "  -r, --keyspace N         keys key:000000000000 to N-1 (default 100000)\n"
    "      --sequential         use the keys in order, not at random (to load a store)\n"
    "      --get-ratio RATIO    share of GETs from 0 to 1; the rest are PUTs (default 0.5)\n"
    "      --incr               every request an INCR of a key, as redis-benchmark -t incr\n"
    "      --value-size BYTES   length of each PUT's value, a JSON string (default 32)\n"
    "  -t, --timeout SECONDS    a connection without progress this long is an error\n"
    "                           (default 5)\n"
    "      --local NAME         GETs by -c reader processes (default 1) from the\n"
    "                           segment of shmkvd --name NAME on this host; with -h,\n"
    "                           -p or -s the keyspace is first PUT through that shmkvd\n"
    "      --json               print the results as one JSON object\n"
    "      --help               print this help and exit\n"
    "      --version            print the version and exit\n"
    "\n"
    "Exit status: 0 no errors, 1 errors (error or wrong replies, connection errors),\n"
    "2 usage error, 3 cannot connect. See shmkv-bench(1).\n";

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

int usage_error(const std::string& message) {
  std::fprintf(stderr, "shmkv-bench: %s\nTry 'shmkv-bench --help'.\n", message.c_str());
  return kUsage;
}

// parse_count parses a whole number from lo to hi for option name.
bool parse_count(std::string_view text, std::uint64_t lo, std::uint64_t hi, std::uint64_t* out) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < lo || n > hi) return false;
  *out = n;
  return true;
}

bool parse_real(const char* text, double lo, double hi, double* out) {
  char* end = nullptr;
  errno = 0;
  const double x = std::strtod(text, &end);
  if (end == text || *end != '\0' || errno != 0 || !(x >= lo && x <= hi)) return false;
  *out = x;
  return true;
}

std::string describe(const loadgen::Config& o) {
  std::string mode = o.mode == loadgen::Mode::kConn ? "conn mode (version 1)"
                                                  : fmt::format("keep mode (version 2), pipeline {}", o.pipeline);
  return fmt::format("{}, {}, {} connection{}", o.address.text, mode, o.connections, o.connections == 1 ? "" : "s");
}

std::string local_target(const std::string& name) { return "local:" + name; }

double ms(std::uint64_t ns) { return static_cast<double>(ns) / 1e6; }

// Local GETs take microseconds: they are reported in microseconds, and with
// nanoseconds in the JSON's milliseconds.
void print_local_text(const loadgen::LocalConfig& o, const loadgen::Result& r, std::uint64_t found) {
  const double rate = r.seconds > 0 ? static_cast<double>(r.answered()) / r.seconds : 0;
  const auto us = [](std::uint64_t ns) { return static_cast<double>(ns) / 1e3; };
  std::printf("shmkv-bench %s: local segment %s, %d reader process%s\n", kVersion, o.name.c_str(), o.readers,
              o.readers == 1 ? "" : "es");
  std::printf("  workload     100%% GET, %llu keys (%s)\n", static_cast<unsigned long long>(o.keyspace),
              o.sequential ? "in order" : "at random");
  std::printf("  requests     %llu in %.3f s: %llu ok (%llu found), %llu errors\n",
              static_cast<unsigned long long>(r.answered()), r.seconds, static_cast<unsigned long long>(r.ok),
              static_cast<unsigned long long>(found), static_cast<unsigned long long>(r.errors()));
  std::printf("  requests/s   %.0f\n", rate);
  std::printf("  latency us   p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  (mean %.3f)\n",
              us(r.latency.percentile(50)), us(r.latency.percentile(90)), us(r.latency.percentile(99)),
              us(r.latency.percentile(99.9)), us(r.latency.max()), r.latency.mean() / 1e3);
  for (const std::string& e : r.examples) std::printf("  e.g.         %s\n", client::printable(e).c_str());
}

void print_text(const loadgen::Config& o, const loadgen::Result& r) {
  const double rate = r.seconds > 0 ? static_cast<double>(r.answered()) / r.seconds : 0;
  std::printf("shmkv-bench %s: %s\n", kVersion, describe(o).c_str());
  if (o.workload.incr)
    std::printf("  workload     INCR, %llu keys (%s)\n", static_cast<unsigned long long>(o.workload.keyspace),
                o.workload.sequential ? "in order" : "at random");
  else
    std::printf("  workload     %g%% GET, %zu-byte values, %llu keys (%s)\n", o.workload.get_ratio * 100,
                o.workload.value_size, static_cast<unsigned long long>(o.workload.keyspace),
                o.workload.sequential ? "in order" : "at random");
  std::printf("  requests     %llu in %.3f s: %llu ok, %llu errors\n",
              static_cast<unsigned long long>(r.answered() + r.unanswered), r.seconds,
              static_cast<unsigned long long>(r.ok), static_cast<unsigned long long>(r.errors()));
  std::printf("  requests/s   %.0f\n", rate);
  std::printf("  latency ms   p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  (mean %.3f)\n",
              ms(r.latency.percentile(50)), ms(r.latency.percentile(90)), ms(r.latency.percentile(99)),
              ms(r.latency.percentile(99.9)), ms(r.latency.max()), r.latency.mean() / 1e6);
  std::printf("  errors       %llu: %llu error replies, %llu wrong replies, %llu connection errors"
              " (%llu requests unanswered)\n",
              static_cast<unsigned long long>(r.errors()), static_cast<unsigned long long>(r.error_replies),
              static_cast<unsigned long long>(r.wrong_replies),
              static_cast<unsigned long long>(r.connection_errors),
              static_cast<unsigned long long>(r.unanswered));
  for (const std::string& e : r.examples) std::printf("  e.g.         %s\n", client::printable(e).c_str());
}

// print_json prints the one JSON object of a run; found is a --local run's
// count of GETs that found their key (-1: not a local run).
void print_json(const loadgen::Config& o, const loadgen::Result& r, std::int64_t found = -1) {
  const double rate = r.seconds > 0 ? static_cast<double>(r.answered()) / r.seconds : 0;
  const bool local = found >= 0;
  const char* mode = local ? "local" : o.mode == loadgen::Mode::kConn ? "conn" : "keep";
  // Milliseconds to the nanosecond for local GETs, to the microsecond otherwise.
  const int digits = local ? 6 : 3;
  std::string out = fmt::format(
      R"({{"program": "shmkv-bench", "version": {}, "target": {}, "mode": "{}", "connections": {}, )"
      R"("pipeline": {}, "keyspace": {}, "sequential": {}, "incr": {}, "get_ratio": {}, "value_size": {}, )"
      R"("requests": {}, "ok": {}, "errors": {}, "error_replies": {}, "wrong_replies": {}, )"
      R"("connection_errors": {}, "unanswered": {}, "seconds": {:.3f}, "requests_per_second": {:.0f}, )"
      R"("latency_ms": {{"p50": {:.{}f}, "p90": {:.{}f}, "p99": {:.{}f}, "p99.9": {:.{}f}, "max": {:.{}f}, )"
      R"("mean": {:.{}f}}}, )",
      json::Quoted{kVersion}, json::Quoted{o.address.text}, mode, o.connections,
      o.mode == loadgen::Mode::kConn ? 1 : o.pipeline, o.workload.keyspace, o.workload.sequential,
      o.workload.incr, o.workload.get_ratio, o.workload.value_size, r.answered() + r.unanswered, r.ok, r.errors(),
      r.error_replies, r.wrong_replies, r.connection_errors, r.unanswered, r.seconds, rate,
      ms(r.latency.percentile(50)), digits, ms(r.latency.percentile(90)), digits, ms(r.latency.percentile(99)),
      digits, ms(r.latency.percentile(99.9)), digits, ms(r.latency.max()), digits, r.latency.mean() / 1e6, digits);
  if (local) out += fmt::format(R"("found": {}, )", found);
  out += R"("error_examples": [)";
  for (std::size_t i = 0; i < r.examples.size(); ++i) {
    if (i > 0) out += ", ";
    json::append_quoted(out, client::printable(r.examples[i]));  // a reply's bytes may not be UTF-8
  }
  out += "]}\n";
  std::fputs(out.c_str(), stdout);
}

// report_written checks that the report reached standard output (a full
// disk, a closed pipe) and gives the exit status: status, or 1 if it did not.
int report_written(int status) {
  if (std::fflush(stdout) == 0 && !std::ferror(stdout)) return status;
  std::fprintf(stderr, "shmkv-bench: write the report to standard output: %s\n", std::strerror(errno));
  return kErrors;
}

// progress rewrites one line on a terminal's standard error.
void progress(const loadgen::Result& r, double seconds) {
  std::fprintf(stderr, "\r\033[Kshmkv-bench: %.1f s, %llu requests, %.0f/s, %llu errors", seconds,
               static_cast<unsigned long long>(r.answered()),
               seconds > 0 ? static_cast<double>(r.answered()) / seconds : 0.0,
               static_cast<unsigned long long>(r.errors()));
}

// raise_file_limit lets -c reach the hard limit on open files.
void raise_file_limit(int connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const rlim_t wanted = static_cast<rlim_t>(connections) + 32;
  if (limit.rlim_cur >= wanted) return;
  limit.rlim_cur = std::min(wanted, limit.rlim_max);
  setrlimit(RLIMIT_NOFILE, &limit);
}

void stop_on_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESETHAND;  // a second ^C ends the program at once
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// run_local is shmkv-bench --local: PUT the keyspace through the daemon
// first when it was named (load), then GET the keys from the segment.
int run_local(loadgen::Config config, const std::string& name, bool readers_given, bool load,
              const std::string& host, std::uint16_t port, const std::string& socket_path, bool json_output) {
  stop_on_signals();
  if (load) {
    loadgen::Config put = config;
    const Status resolved = socket_path.empty() ? net::resolve_tcp(host, port, &put.address)
                                                : net::resolve_unix(socket_path, &put.address);
    if (!resolved) {
      std::fprintf(stderr, "shmkv-bench: %s\n", resolved.message().c_str());
      return resolved.code() == Status::Code::kInvalid ? kUsage : kNoServer;
    }
    put.connections = 2;
    put.pipeline = 32;
    put.requests = config.workload.keyspace;
    put.seconds = 0;
    put.workload.sequential = true;
    put.workload.get_ratio = 0;
    put.stop_on_error = true;  // a full store would refuse every PUT after it
    loadgen::Result loaded;
    if (Status s = loadgen::run(put, &g_stop, {}, &loaded); !s) {
      std::fprintf(stderr, "shmkv-bench: %s (is shmkvd running there? see -h, -p and -s)\n", s.message().c_str());
      return kNoServer;
    }
    if (loaded.errors() > 0) {
      std::fprintf(stderr, "shmkv-bench: %llu errors putting the keyspace: %s\n",
                   static_cast<unsigned long long>(loaded.errors()),
                   loaded.examples.empty() ? "" : client::printable(loaded.examples.front()).c_str());
      return kErrors;
    }
  }
  loadgen::LocalConfig local;
  local.name = name;
  local.readers = readers_given ? config.connections : 1;
  local.requests = config.requests;
  local.seconds = config.seconds;
  local.keyspace = config.workload.keyspace;
  local.sequential = config.workload.sequential;
  loadgen::Result result;
  std::uint64_t found = 0;
  if (Status s = loadgen::run_local(local, &g_stop, &result, &found); !s) {
    std::fprintf(stderr, "shmkv-bench: %s\n", s.message().c_str());
    return kNoServer;
  }
  if (json_output) {
    config.address.text = local_target(name);
    config.connections = local.readers;
    config.mode = loadgen::Mode::kKeep;
    config.pipeline = 1;
    config.workload.get_ratio = 1;
    print_json(config, result, static_cast<std::int64_t>(found));
  } else {
    print_local_text(local, result, found);
  }
  return report_written(result.errors() > 0 ? kErrors : kOk);
}

}  // namespace

int main(int argc, char** argv) {
  // No connection may be 0, 1 or 2, where the report and errors go.
  if (!standard_fds::open_closed()) {
    std::perror("shmkv-bench: opening /dev/null on a closed standard descriptor");
    return kErrors;
  }
  enum {
    kOptMode = 256,
    kOptGetRatio,
    kOptValueSize,
    kOptSequential,
    kOptIncr,
    kOptJson,
    kOptLocal,
    kOptHelp,
    kOptVersion
  };
  static const option kOptions[] = {
      {"host", required_argument, nullptr, 'h'},
      {"port", required_argument, nullptr, 'p'},
      {"socket", required_argument, nullptr, 's'},
      {"connections", required_argument, nullptr, 'c'},
      {"requests", required_argument, nullptr, 'n'},
      {"duration", required_argument, nullptr, 'd'},
      {"mode", required_argument, nullptr, kOptMode},
      {"pipeline", required_argument, nullptr, 'P'},
      {"keyspace", required_argument, nullptr, 'r'},
      {"sequential", no_argument, nullptr, kOptSequential},
      {"incr", no_argument, nullptr, kOptIncr},
      {"get-ratio", required_argument, nullptr, kOptGetRatio},
      {"value-size", required_argument, nullptr, kOptValueSize},
      {"timeout", required_argument, nullptr, 't'},
      {"json", no_argument, nullptr, kOptJson},
      {"local", required_argument, nullptr, kOptLocal},
      {"help", no_argument, nullptr, kOptHelp},
      {"version", no_argument, nullptr, kOptVersion},
      {nullptr, 0, nullptr, 0},
  };
  loadgen::Config config;
  std::string host = "127.0.0.1";
  std::uint64_t port = 4444;
  std::string socket_path;
  bool tcp_given = false;
  bool requests_given = false;
  bool json_output = false;
  std::string local_name;
  bool local_given = false;
  bool connections_given = false;
  std::vector<std::string> network_only;  // options that --local refuses
  opterr = 0;
  for (;;) {
    const int prev = optind;
    const int c = getopt_long(argc, argv, ":h:p:s:c:n:d:P:r:t:", kOptions, nullptr);
    if (c == -1) break;
    const std::string_view arg = optarg ? optarg : "";
    const std::string option = argv[prev];
    std::uint64_t n = 0;
    switch (c) {
      case 'h':
        host = arg;
        tcp_given = true;
        break;
      case 'p':
        if (!parse_count(arg, 1, 65535, &port))
          return usage_error(fmt::format("-p takes a port from 1 to 65535, not '{}'", arg));
        tcp_given = true;
        break;
      case 's':
        // An empty path would mean TCP to the default host and port.
        if (arg.empty()) return usage_error("-s needs a socket path, not ''");
        socket_path = arg;
        break;
      case 'c':
        if (!parse_count(arg, 1, 10000, &n))
          return usage_error(fmt::format("-c takes a number of connections from 1 to 10000, not '{}'", arg));
        config.connections = static_cast<int>(n);
        connections_given = true;
        break;
      case 'n':
        if (!parse_count(arg, 1, UINT64_MAX / 2, &config.requests))
          return usage_error(fmt::format("-n takes a number of requests of at least 1, not '{}'", arg));
        requests_given = true;
        break;
      case 'd':
        if (!parse_real(optarg, 0.001, 86400, &config.seconds))
          return usage_error(fmt::format("-d takes seconds from 0.001 to 86400, e.g. 5 or 0.5, not '{}'", arg));
        break;
      case kOptMode:
        network_only.push_back("--mode");
        if (arg == "conn") config.mode = loadgen::Mode::kConn;
        else if (arg == "keep") config.mode = loadgen::Mode::kKeep;
        else return usage_error(fmt::format("--mode takes conn or keep, not '{}'", arg));
        break;
      case 'P':
        network_only.push_back("-P");
        if (!parse_count(arg, 1, 10000, &n))
          return usage_error(fmt::format("-P takes a pipeline depth from 1 to 10000, not '{}'", arg));
        config.pipeline = static_cast<int>(n);
        break;
      case 'r':
        if (!parse_count(arg, 1, workload::kMaxKeyspace, &config.workload.keyspace))
          return usage_error(fmt::format("-r takes a number of keys from 1 to {}, not '{}'", workload::kMaxKeyspace, arg));
        break;
      case kOptSequential: config.workload.sequential = true; break;
      case kOptIncr:
        config.workload.incr = true;
        network_only.push_back("--incr");
        break;
      case kOptGetRatio:
        network_only.push_back("--get-ratio");
        if (!parse_real(optarg, 0, 1, &config.workload.get_ratio))
          return usage_error(fmt::format("--get-ratio takes a number from 0 to 1, not '{}'", arg));
        break;
      case kOptValueSize:
        if (!parse_count(arg, 2, 16 << 20, &n))
          return usage_error(fmt::format("--value-size takes bytes from 2 to {}, not '{}'", 16 << 20, arg));
        config.workload.value_size = static_cast<std::size_t>(n);
        break;
      case 't': {
        double seconds = 0;
        if (!parse_real(optarg, 0, 86400, &seconds))
          return usage_error(fmt::format("-t takes seconds, e.g. 2 or 0.5, not '{}'", arg));
        config.timeout_ms = static_cast<int>(std::ceil(seconds * 1000));  // 0.0004 is 1 ms, not never
        if (config.timeout_ms == 0) config.timeout_ms = 86400 * 1000;  // 0: as good as never
        break;
      }
      case kOptJson: json_output = true; break;
      case kOptLocal:
        if (arg.empty() || arg.find('/') != std::string_view::npos)
          return usage_error(fmt::format("--local takes a segment name as shmkvd --name takes, not '{}'", arg));
        local_name = arg;
        local_given = true;
        break;
      case kOptHelp: std::fputs(kUsageText, stdout); return kOk;
      case kOptVersion: std::printf("shmkv-bench %s\n", kVersion); return kOk;
      case ':': return usage_error(fmt::format("{} needs a value", option));
      default: return usage_error(fmt::format("unknown option {}", option));
    }
  }
  if (optind < argc) return usage_error(fmt::format("unexpected argument '{}'", argv[optind]));
  if (!socket_path.empty() && tcp_given) return usage_error("give -s, or -h and -p, not both");
  if (requests_given && config.seconds > 0) return usage_error("give -n or -d, not both");
  if (config.seconds > 0) config.requests = 0;
  if (config.mode == loadgen::Mode::kConn && config.pipeline > 1)
    return usage_error("-P needs --mode keep: a version-1 connection carries one request");
  if (local_given && !network_only.empty())
    return usage_error(fmt::format("--local measures GETs only: leave out {}", network_only.front()));
  if (local_given && connections_given && config.connections > 256)
    return usage_error(fmt::format("-c with --local takes 1 to 256 reader processes, not {}", config.connections));

  if (local_given) return run_local(config, local_name, connections_given, tcp_given || !socket_path.empty(),
                                    host, static_cast<std::uint16_t>(port), socket_path, json_output);

  const Status resolved = socket_path.empty()
                              ? net::resolve_tcp(host, static_cast<std::uint16_t>(port), &config.address)
                              : net::resolve_unix(socket_path, &config.address);
  if (!resolved) {
    std::fprintf(stderr, "shmkv-bench: %s\n", resolved.message().c_str());
    return resolved.code() == Status::Code::kInvalid ? kUsage : kNoServer;
  }
  raise_file_limit(config.connections);
  stop_on_signals();

  const bool live = isatty(STDERR_FILENO);
  loadgen::Result result;
  if (Status s = loadgen::run(config, &g_stop, live ? loadgen::Progress(progress) : loadgen::Progress(), &result); !s) {
    if (live) std::fputs("\r\033[K", stderr);
    std::fprintf(stderr, "shmkv-bench: %s (is shmkvd running there? see -h, -p and -s)\n", s.message().c_str());
    return kNoServer;
  }
  if (live) std::fputs("\r\033[K", stderr);
  if (json_output) print_json(config, result);
  else print_text(config, result);
  return report_written(result.errors() > 0 ? kErrors : kOk);
}
