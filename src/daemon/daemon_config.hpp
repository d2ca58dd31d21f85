// The daemon's configuration: its defaults, its command line (which --help,
// shmkvd(8) and the README describe), and the checks on each value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/log.hpp"
#include "protocol/frame.hpp"
#include "store/store.hpp"
#include "shmkv/status.hpp"

namespace shmkv::daemon_config {

struct Config {
  std::string bind = "127.0.0.1";
  std::uint16_t port = 4444;  // 0: no TCP (needs a UNIX socket)
  std::string socket_path;    // a UNIX socket to listen on too; empty: none
  unsigned socket_mode = 0660;
  std::uint16_t resp_port = 0;   // RESP (shmkv-protocol(7), RESP) on --bind; 0: off
  std::string resp_socket_path;  // a RESP UNIX socket; empty: none
  std::string name = "shmkv";
  std::size_t memory = store::kDefaultSize;
  store::SegmentAccess segment;  // --segment-mode, --segment-group (a gid)
  std::size_t max_message = frame::kDefaultMaxMessage;
  int idle_timeout_s = 60;  // 0: never
  int request_timeout_s = 10;  // for a request to arrive whole; 0: never
  int lock_timeout_s = 5;   // a worker holding the store lock longer is killed; 0: never
  int backlog = 511;
  int max_children = 512;
  int spare_workers = 16;                   // idle workers kept; 0: a fork per connection
  std::uint64_t worker_max_connections = 10000;  // then a worker retires
  bool batch_scheduling = true;  // --worker-scheduling batch: workers under SCHED_BATCH
  int shutdown_timeout_s = 10;
  bool daemonize = false;
  bool debug_commands = false;  // answer DEBUG, a test hook
  // With debug_commands: every salvage first sleeps this long, so that a
  // test can kill it (SHMKVD_DEBUG_SALVAGE_DELAY_MS).
  int debug_salvage_delay_ms = 0;
  // With debug_commands: every snapshot writer sleeps this long before it
  // finishes its file, so that a test can kill it mid-write
  // (SHMKVD_DEBUG_SNAPSHOT_DELAY_MS).
  int debug_snapshot_delay_ms = 0;
  // With debug_commands: every snapshot copy pauses this long after each
  // part it copies, holding the store lock, so that a test can make a copy
  // outlast --lock-timeout, or stop it there (SHMKVD_DEBUG_SNAPSHOT_COPY_PAUSE_MS).
  int debug_snapshot_copy_pause_ms = 0;
  std::string pidfile;  // absolute; empty: none
  std::string snapshot_path;     // absolute; empty: no snapshots
  int snapshot_interval_s = 60;  // 0: only on SAVE and at shutdown
  log::Level log_level = log::Level::kInfo;
};

enum class Action { kServe, kHelp, kVersion, kRemoveStore };

// parse fills *config from the command line. On a usage error the Status
// message says what was wrong and what to give instead.
Status parse(int argc, char** argv, Config* config, Action* action);

// usage is the --help text.
std::string usage();

// parse_size reads a byte count with an optional K, M or G suffix (powers of
// 1024), e.g. "64M".
Status parse_size(std::string_view text, std::size_t* out);

}  // namespace shmkv::daemon_config
