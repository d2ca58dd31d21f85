// shmkv: the command-line client. Parses the command line, runs one command
// through the client library, and maps its Status to an exit status a script
// can branch on: 0 done, 1 key not found, 2 usage error, 3 connection or
// server error.

#include <getopt.h>

#include <charconv>
#include <cstdio>
#include <fmt/format.h>
#include <string>
#include <string_view>

#include "shmkv/client.hpp"
#include "shmkv/json.hpp"
#include "shmkv/version.hpp"

namespace {

using namespace shmkv;

enum Exit { kOk = 0, kNotFound = 1, kUsage = 2, kFailed = 3 };

constexpr char kUsageText[] =
    "usage: shmkv [-h HOST] [-p PORT] [-t SECONDS] get KEY\n"
    "       shmkv [-h HOST] [-p PORT] [-t SECONDS] put KEY JSON\n"
    "       shmkv --help | --version\n"
    "\n"
    "Read and write values in a shmkvd store.\n"
    "\n"
    "  -h, --host HOST       server host name or address (default 127.0.0.1)\n"
    "  -p, --port PORT       server TCP port (default 4444)\n"
    "  -t, --timeout SECONDS connect and reply timeout, may be fractional (default 5)\n"
    "      --help            print this help and exit\n"
    "      --version         print the version and exit\n"
    "\n"
    "Commands:\n"
    "  get KEY        print the value of KEY as JSON; exit 1 if it is not set\n"
    "  put KEY JSON   store the JSON value under KEY\n"
    "\n"
    "Exit status: 0 done, 1 key not found, 2 usage error, 3 connection or server error.\n"
    "See shmkv(1).\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "shmkv: %s\nTry 'shmkv --help'.\n", message.c_str());
  return kUsage;
}

int failure(const Status& s) {
  std::fprintf(stderr, "shmkv: %s\n", s.message().c_str());
  switch (s.code()) {
    case Status::Code::kNotFound: return kNotFound;
    case Status::Code::kInvalid: return kUsage;
    default: return kFailed;
  }
}

}  // namespace

int main(int argc, char** argv) {
  enum { kOptHelp = 256, kOptVersion };
  static const option kOptions[] = {
      {"host", required_argument, nullptr, 'h'},    {"port", required_argument, nullptr, 'p'},
      {"timeout", required_argument, nullptr, 't'}, {"help", no_argument, nullptr, kOptHelp},
      {"version", no_argument, nullptr, kOptVersion},  {nullptr, 0, nullptr, 0},
  };
  client::Endpoint endpoint;
  opterr = 0;
  // "+": stop at the command, so that a value such as -1 is not an option.
  for (;;) {
    const int prev = optind;
    const int c = getopt_long(argc, argv, "+:h:p:t:", kOptions, nullptr);
    if (c == -1) break;
    const std::string_view arg = optarg ? optarg : "";
    switch (c) {
      case 'h': endpoint.host = arg; break;
      case 'p': {
        unsigned port = 0;
        auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), port);
        if (ec != std::errc() || end != arg.data() + arg.size() || port < 1 || port > 65535)
          return usage_error(fmt::format("-p takes a port from 1 to 65535, not '{}'", arg));
        endpoint.port = static_cast<std::uint16_t>(port);
        break;
      }
      case 't': {
        char* end = nullptr;
        const double seconds = std::strtod(optarg, &end);
        if (end == optarg || *end != '\0' || !(seconds >= 0) || seconds > 86400)
          return usage_error(fmt::format("-t takes seconds, e.g. 2 or 0.5, not '{}'", arg));
        endpoint.timeout_ms = static_cast<int>(seconds * 1000);
        break;
      }
      case kOptHelp: std::fputs(kUsageText, stdout); return kOk;
      case kOptVersion: std::printf("shmkv %s\n", kVersion); return kOk;
      case ':': return usage_error(fmt::format("{} needs a value", argv[prev]));
      default: return usage_error(fmt::format("unknown option {}", argv[prev]));
    }
  }
  const int nargs = argc - optind;
  if (nargs == 0) return usage_error("no command given");
  const std::string_view command = argv[optind];
  if (command == "get") {
    if (nargs != 2) return usage_error("get takes one KEY");
  } else if (command == "put") {
    if (nargs != 3) return usage_error("put takes a KEY and a JSON value");
    if (Status s = json::check_value(argv[optind + 2]); !s)
      return usage_error(fmt::format("JSON value for put: {}", s.message()));
  } else {
    return usage_error(fmt::format("unknown command '{}'", command));
  }

  std::unique_ptr<client::Client> client;
  if (Status s = client::Client::connect(endpoint, &client); !s) {
    std::fprintf(stderr, "shmkv: %s (is shmkvd running there? see -h and -p)\n", s.message().c_str());
    return kFailed;
  }
  if (command == "get") {
    std::string value;
    if (Status s = client->get(argv[optind + 1], &value); !s) return failure(s);
    std::fwrite(value.data(), 1, value.size(), stdout);
    std::fputc('\n', stdout);
    return kOk;
  }
  if (Status s = client->put(argv[optind + 1], argv[optind + 2]); !s) return failure(s);
  return kOk;
}
