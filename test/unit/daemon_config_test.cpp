#include "daemon/daemon_config.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "check_ok.hpp"

#include <cstdlib>
#include <initializer_list>
#include <string>
#include <vector>

using namespace shmkv;

namespace {

Status parse(std::initializer_list<const char*> args, daemon_config::Config* config,
             daemon_config::Action* action) {
  std::vector<std::string> storage{"shmkvd"};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  return daemon_config::parse(static_cast<int>(storage.size()), argv.data(), config, action);
}

}  // namespace

TEST_CASE("daemon_config: sizes take K, M and G suffixes") {
  std::size_t n = 0;
  REQUIRE_OK(daemon_config::parse_size("64M", &n));
  CHECK(n == std::size_t(64) << 20);
  REQUIRE_OK(daemon_config::parse_size("1G", &n));
  CHECK(n == std::size_t(1) << 30);
  REQUIRE_OK(daemon_config::parse_size("512k", &n));
  CHECK(n == 512 * 1024);
  REQUIRE_OK(daemon_config::parse_size("1000", &n));
  CHECK(n == 1000);
  CHECK(daemon_config::parse_size("12X", &n).message() == "'12X' has an unknown suffix (use K, M or G)");
  CHECK_FALSE(daemon_config::parse_size("M", &n).is_ok());
  CHECK_FALSE(daemon_config::parse_size("-1M", &n).is_ok());
  CHECK_FALSE(daemon_config::parse_size("99999999999999999G", &n).is_ok());
}

TEST_CASE("daemon_config: defaults and options") {
  daemon_config::Config config;
  daemon_config::Action action;
  REQUIRE_OK(parse({}, &config, &action));
  CHECK(action == daemon_config::Action::kServe);
  CHECK(config.bind == "127.0.0.1");
  CHECK(config.port == 4444);
  CHECK(config.name == "shmkv");
  CHECK(config.memory == std::size_t(64) << 20);
  CHECK(config.max_message == std::size_t(1) << 20);

  REQUIRE_OK(parse({"--bind", "::1", "-p", "5000", "--name", "t1", "--memory", "8M", "--max-message", "4K",
                 "--idle-timeout", "0", "--log-level", "debug"},
                &config, &action));
  CHECK(config.bind == "::1");
  CHECK(config.port == 5000);
  CHECK(config.name == "t1");
  CHECK(config.memory == std::size_t(8) << 20);
  CHECK(config.max_message == 4096);
  CHECK(config.idle_timeout_s == 0);
  CHECK(config.log_level == log::Level::kDebug);

  REQUIRE_OK(parse({"--version"}, &config, &action));
  CHECK(action == daemon_config::Action::kVersion);
}

TEST_CASE("daemon_config: usage errors say what to give instead") {
  daemon_config::Config config;
  daemon_config::Action action;
  CHECK(parse({"--port", "70000"}, &config, &action).message() ==
        "--port takes a whole number from 0 to 65535, not '70000'");
  CHECK(parse({"--memory", "1K"}, &config, &action).message() == "--memory must be from 64K to 32G");
  CHECK(parse({"--memory", "33G"}, &config, &action).message() == "--memory must be from 64K to 32G");
  CHECK_OK(parse({"--memory", "32G"}, &config, &action));
  const std::string bad_name = "--name takes a name of 1 to 247 bytes without '/', other than . and ..";
  for (const std::string& name : {std::string("a/b"), std::string(), std::string("."), std::string(".."),
                                  std::string(248, 'n')}) {
    CAPTURE(name);
    CHECK(parse({"--name", name.c_str()}, &config, &action).message() == bad_name);
  }
  REQUIRE_OK(parse({"--name", std::string(247, 'n').c_str()}, &config, &action));
  CHECK(parse({"--frob"}, &config, &action).message() == "unknown option --frob");
  CHECK(parse({"--port"}, &config, &action).message() == "--port needs a value");
  CHECK(parse({"--log-level", "loud"}, &config, &action).message() ==
        "--log-level takes error, warning, info or debug, not 'loud'");
  CHECK(parse({"extra"}, &config, &action).message() == "unexpected argument 'extra'");
  CHECK(parse({"--port", "0"}, &config, &action).message() ==
        "--port 0 turns TCP off, so give a UNIX socket with --socket");
  CHECK(parse({"--socket-mode", "0999"}, &config, &action).message() ==
        "--socket-mode takes an octal mode such as 0660, not '0999'");
  CHECK(parse({"--max-children", "0"}, &config, &action).message() ==
        "--max-children takes a whole number from 1 to 100000, not '0'");
}

TEST_CASE("daemon_config: sockets, limits, daemon mode and store removal") {
  daemon_config::Config config;
  daemon_config::Action action;
  REQUIRE_OK(parse({"--port", "0", "--socket", "/run/shmkv.sock", "--socket-mode", "600", "--max-children", "4",
                 "--shutdown-timeout", "3", "-d", "--pidfile", "/run/shmkvd.pid"},
                &config, &action));
  CHECK(config.port == 0);
  CHECK(config.socket_path == "/run/shmkv.sock");
  CHECK(config.socket_mode == 0600);
  CHECK(config.max_children == 4);
  CHECK(config.shutdown_timeout_s == 3);
  CHECK(config.daemonize);
  CHECK(config.pidfile == "/run/shmkvd.pid");

  daemon_config::Config relative;
  REQUIRE_OK(parse({"--socket", "s.sock"}, &relative, &action));
  CHECK(relative.socket_path.front() == '/');  // still valid after chdir("/")

  daemon_config::Config remove;
  REQUIRE_OK(parse({"--remove-store", "--name", "old"}, &remove, &action));
  CHECK(action == daemon_config::Action::kRemoveStore);
  CHECK(remove.name == "old");
}

TEST_CASE("daemon_config: --worker-scheduling is batch unless told other") {
  daemon_config::Config config;
  daemon_config::Action action;
  REQUIRE_OK(parse({}, &config, &action));
  CHECK(config.batch_scheduling);
  REQUIRE_OK(parse({"--worker-scheduling", "other"}, &config, &action));
  CHECK_FALSE(config.batch_scheduling);
  REQUIRE_OK(parse({"--worker-scheduling", "batch"}, &config, &action));
  CHECK(config.batch_scheduling);
  CHECK(parse({"--worker-scheduling", "fifo"}, &config, &action).message() ==
        "--worker-scheduling takes batch or other, not 'fifo'");
}

TEST_CASE("daemon_config: --lock-timeout, and the salvage delay only with --debug-commands") {
  daemon_config::Config config;
  daemon_config::Action action;
  REQUIRE_OK(parse({}, &config, &action));
  CHECK(config.lock_timeout_s == 5);
  REQUIRE_OK(parse({"--lock-timeout", "0"}, &config, &action));
  CHECK(config.lock_timeout_s == 0);
  CHECK(parse({"--lock-timeout", "3601"}, &config, &action).message() ==
        "--lock-timeout takes a whole number from 0 to 3600, not '3601'");

  // The test hooks' delays, read from the environment and ignored without
  // --debug-commands.
  struct Hook {
    const char* variable;
    int daemon_config::Config::*delay_ms;
    const char* value;
    const char* bad;
  };
  for (const Hook& hook : {Hook{"SHMKVD_DEBUG_SALVAGE_DELAY_MS", &daemon_config::Config::debug_salvage_delay_ms,
                                "250", "soon"},
                           Hook{"SHMKVD_DEBUG_SNAPSHOT_DELAY_MS", &daemon_config::Config::debug_snapshot_delay_ms,
                                "1500", "-1"}}) {
    CAPTURE(hook.variable);
    setenv(hook.variable, hook.value, 1);
    daemon_config::Config plain;
    REQUIRE_OK(parse({}, &plain, &action));
    CHECK(plain.*hook.delay_ms == 0);
    daemon_config::Config debug;
    REQUIRE_OK(parse({"--debug-commands"}, &debug, &action));
    CHECK(debug.*hook.delay_ms == std::stoi(hook.value));
    setenv(hook.variable, hook.bad, 1);
    CHECK(parse({"--debug-commands"}, &debug, &action).message() ==
          fmt::format("{} takes a whole number from 0 to 600000, not '{}'", hook.variable, hook.bad));
    unsetenv(hook.variable);
  }
}

TEST_CASE("daemon_config: --resp-port and --resp-socket") {
  daemon_config::Config config;
  daemon_config::Action action;
  CHECK(config.resp_port == 0);  // RESP stays off unless asked for
  REQUIRE_OK(parse({"--resp-port", "6379", "--resp-socket", "/tmp/x.sock"}, &config, &action));
  CHECK(config.resp_port == 6379);
  CHECK(config.resp_socket_path == "/tmp/x.sock");
  daemon_config::Config resp_only;
  REQUIRE_OK(parse({"--port", "0", "--resp-port", "6379"}, &resp_only, &action));
  daemon_config::Config c1, c2, c3;
  CHECK(parse({"--resp-port", "70000"}, &c1, &action).message() == "--resp-port takes a whole number from 0 to 65535, not '70000'");
  CHECK(parse({"--port", "6379", "--resp-port", "6379"}, &c2, &action).message() == "--resp-port must differ from --port");
  CHECK(parse({"--socket", "/tmp/a", "--resp-socket", "/tmp/a"}, &c3, &action).message() ==
        "--resp-socket must differ from --socket");
}

TEST_CASE("daemon_config: --segment-mode grants read at most, --segment-group takes a name or a number") {
  daemon_config::Config config;
  daemon_config::Action action;
  CHECK(config.segment.mode == 0600);
  CHECK(config.segment.group == static_cast<gid_t>(-1));
  REQUIRE_OK(parse({"--segment-mode", "0640", "--segment-group", "nogroup"}, &config, &action));
  CHECK(config.segment.mode == 0640);
  CHECK(config.segment.group == 65534);  // Debian's nogroup
  daemon_config::Config numeric;
  REQUIRE_OK(parse({"--segment-mode", "644", "--segment-group", "4321"}, &numeric, &action));
  CHECK(numeric.segment.mode == 0644);
  CHECK(numeric.segment.group == 4321);
  for (const char* bad : {"0660", "0602", "0700", "0400", "1640", "64"}) {
    daemon_config::Config c;
    CAPTURE(bad);
    CHECK(parse({"--segment-mode", bad}, &c, &action).message() ==
          std::string("--segment-mode takes 0600, 0640, 0604 or 0644 (other users may only read), not '") + bad + "'");
  }
  daemon_config::Config c;
  CHECK(parse({"--segment-group", "no-such-group-here"}, &c, &action).message() ==
        "--segment-group: no group 'no-such-group-here' (see getent group)");
}
