// A worker process's life: serve the connection it was forked for, if any,
// then, while the pool is short of idle workers, wait for the next one
// (acceptor.hpp). One connection at a time, always.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "daemon/connection.hpp"
#include "daemon/listeners.hpp"
#include "resp/commands.hpp"
#include "daemon/scoreboard.hpp"
#include "store/store.hpp"

namespace shmkv::worker {

struct Config {
  connection::Config connection;
  resp::Session::Config resp;            // what RESP's INFO reports
  const std::vector<listeners::Listener>* listeners = nullptr;
  scoreboard::Scoreboard* board = nullptr;
  int slot = -1;                         // this worker's scoreboard slot
  std::size_t spare_workers = 0;         // stay idle only while fewer are idle
  std::uint64_t max_connections = 0;     // then retire
  pid_t parent_pid = 0;                  // told (SIGUSR1) when no worker is idle
  bool batch_scheduling = false;         // use_batch_scheduling first
};

// use_batch_scheduling moves the calling process from SCHED_OTHER to
// SCHED_BATCH (shmkvd(8), --worker-scheduling), and keeps any other policy
// the daemon was started under. It logs why it could not.
void use_batch_scheduling();

// batch_scheduling_allowed tells the parent, before it forks workers,
// whether use_batch_scheduling would move them: whether it runs under
// SCHED_OTHER and may change its policy (a seccomp filter may forbid it,
// which it logs, once, rather than every worker).
bool batch_scheduling_allowed();

// run serves first_conn (when >= 0), which speaks first_protocol, then
// pooled connections, and returns when the worker should exit: on stop,
// when retired, or when enough other workers are idle.
void run(int first_conn, listeners::Protocol first_protocol, store::Store& store, const Config& config);

}  // namespace shmkv::worker
