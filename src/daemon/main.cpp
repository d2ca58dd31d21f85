// shmkvd: the shmkv daemon.
//
// Process model. The parent process opens (or creates) the shared-memory store
// and claims it, opens the listening sockets (or takes those systemd passed),
// and then only keeps the pool of workers (parent.cpp): it forks, counts and
// reaps them. Each connection is served by exactly one worker process
// (worker.cpp, connection.cpp), and a worker serves one connection at a time.
// The parent never reads or writes the store's data after start-up, so a
// worker that crashes or hangs cannot take the accept loop with it. Workers
// see each other's writes because the dictionary lives in the shared
// segment, under the segment's interprocess mutex. What the processes know of
// each other (each worker's state, the counters STATS reports) lives in a
// small shared mapping of the parent's, the scoreboard (scoreboard.hpp).
//
// Worker reuse. A fork, exit and reap costs about 150 us on the 2-core
// machines we measure on, which caps a fork-per-connection server near 7,000
// one-request connections a second, a third of the Python server it
// replaces. So a worker whose connection has ended stays, while fewer than
// --spare-workers are idle, and idle workers wait in accept() on the
// inherited listening sockets themselves (Apache's prefork), each in its own
// epoll set with EPOLLEXCLUSIVE so that a connection wakes one of them. The
// worker that takes the last idle slot tells the parent (SIGUSR1), which forks
// a spare; the parent accepts and forks for a connection itself only when no
// worker is idle and no spare could be had.
//
// The other design, the parent accepting every connection and handing it to
// an idle worker over a socketpair (SCM_RIGHTS), measured at 0.6x the Python
// server on a no-JSON skeleton against 1.04x for this one. Built in this
// server too (branch handoff-experiment, 238593e; 2-core machine, quiet,
// medians of 3 interleaved rounds against this design at the same commit):
// 16 one-request clients 24,700 connections a second against 23,900 (1.03x:
// both at the machine's limit); one client 11,300 against 13,300 (0.85x, p50
// 71 us against 59), with the daemon's context switches per connection at
// 2.0 against 1.0, since the parent wakes for every connection; and after
// the 16 clients its pool held 12 to 16 workers where this one kept 6 to 8,
// as it forks whenever no worker happens to be idle at accept time. It also
// loses a connection handed to an idle worker that was killed but not
// yet reaped, where here an unaccepted connection waits in the listen queue
// for the next worker. This design in make bench (2 cores, 16 clients of one
// request each): 24,800 connections a second, against 4,100 with a fresh
// fork per connection (--spare-workers 0).
//
// Signals. Handlers only set flags. SIGCHLD, SIGTERM and SIGINT stay blocked
// except inside ppoll(), which unblocks them atomically, so no signal can
// arrive between a check of a flag and the wait (no lost wake-up).
//
// Shutdown. On SIGTERM or SIGINT the parent closes the listeners and passes
// SIGTERM on to every worker; a worker answers the requests it has read, or is
// reading, and exits. Workers still running after --shutdown-timeout are
// killed. The parent exits 0; the store, and its data, stay for a restart.
//
// Crash policy. One function decides what a worker's death means
// (Parent::reap, in parent.cpp): every abnormal death is logged once with its
// signal or exit code, its slot is freed and the pool refilled. Outside the
// store it costs only its connection. Inside the store (its scoreboard slot
// says so) the map may be half-changed and the robust mutex is left to a dead
// owner, so the parent stops every worker, has a child process salvage the
// map into a fresh segment (recovery.cpp: every node checked against the
// segment's bounds, within a time limit), gives the fresh segment the store's
// name and resumes: acknowledged writes survive, and the dead worker's own
// unacknowledged request is lost. If the salvage fails the store is not
// served (data requests get an error, STATS says why) until an operator acts.
// The same health check runs at start-up on a store that already exists.
//
// This file is the start-up sequence; each step's errors are reported on
// stderr before the daemon detaches (--daemonize), so that they are seen.

#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "daemon/daemon_config.hpp"
#include "daemon/daemonize.hpp"
#include "daemon/listeners.hpp"
#include "common/log.hpp"
#include "daemon/parent.hpp"
#include "daemon/recovery.hpp"
#include "daemon/scoreboard.hpp"
#include "store/store.hpp"
#include "shmkv/version.hpp"

namespace {

using namespace shmkv;

int fail(const Status& s) {
  log::error("{}", s.message());
  return 1;
}

int remove_store(const daemon_config::Config& config) {
  if (!store::Store::exists(config.name))
    return fail(Status::not_found(fmt::format("no shared memory segment {}", config.name)));
  std::unique_ptr<store::Store> store;
  // Open and claim first: a store that a live daemon serves is not removed.
  if (Status s = store::Store::open(config.name, config.memory, &store); !s) {
    if (s.code() != Status::Code::kCorrupt) return fail(s);
  } else if (Status s = store->claim(); !s) {
    return fail(s);
  }
  if (Status s = store::Store::remove(config.name); !s) return fail(s);
  log::info("removed store {}", config.name);
  return 0;
}

// check_health runs at start-up on an existing store: a daemon killed while
// a worker held the store lock left it unusable, and the store is rebuilt
// before anything is served.
Status check_health(std::unique_ptr<store::Store>& store) {
  Status s = recovery::check(*store, 2000);
  if (s || s.code() != Status::Code::kCorrupt) return s;
  log::error("{}: rebuilding it before serving", s.message());
  std::size_t keys = 0;
  if (Status r = recovery::rebuild(&store, recovery::kSalvageTimeoutMs, &keys); !r)
    return Status::corrupt(fmt::format("store {} cannot be served: {}; remove it with --remove-store to start "
                                       "empty", store->name(), r.message()));
  log::warning("store {} rebuilt: {} keys copied into a fresh segment", store->name(), keys);
  return Status::ok();
}

int serve(const daemon_config::Config& config) {
  daemonize::Pidfile pidfile;
  if (!config.pidfile.empty())
    if (Status s = pidfile.lock(config.pidfile); !s) return fail(s);

  std::unique_ptr<store::Store> store;
  if (Status s = store::Store::open(config.name, config.memory, &store); !s) return fail(s);
  if (Status s = store->claim(); !s) return fail(s);
  if (!store->created())
    if (Status s = check_health(store); !s) return fail(s);

  scoreboard::Scoreboard* board = scoreboard::Scoreboard::create(static_cast<std::size_t>(config.max_children));
  if (!board) return fail(Status::io(errno_text("mmap of the scoreboard", errno)));

  std::vector<listeners::Listener> listening;
  bool activated = false;
  const listeners::Config listen{config.bind,    config.port,      config.socket_path,     config.socket_mode,
                                 config.backlog, config.resp_port, config.resp_socket_path};
  if (Status s = listeners::open_all(listen, &listening, &activated); !s) {
    if (store->created()) {  // leave nothing behind from a start that failed
      store.reset();
      store::Store::remove(config.name);
    }
    return fail(s);
  }

  if (config.daemonize) {
    if (Status s = daemonize::detach(); !s) return fail(s);
    log::to_syslog();
    board->daemon_pid = getpid();
    store->claim();  // records the daemon's new pid
  }
  if (!config.pidfile.empty())
    if (Status s = pidfile.write(); !s) return fail(s);

  log::info("shmkvd {} serving store {} ({}, {} keys, {} bytes){}", kVersion, config.name,
            store->created() ? "created" : "attached", store->key_count(), store->counts().store_bytes,
            activated ? " on sockets from systemd" : "");
  if (!store->created() && store->counts().store_bytes != config.memory)
    log::info("store {} keeps its size of {} bytes; --memory applies to a new store", config.name,
              store->counts().store_bytes);

  const int status = parent::run(config, listening, store, *board);
  pidfile.remove();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  daemon_config::Config config;
  daemon_config::Action action;
  if (Status s = daemon_config::parse(argc, argv, &config, &action); !s) {
    std::fprintf(stderr, "shmkvd: %s\nTry 'shmkvd --help'.\n", s.message().c_str());
    return 2;
  }
  switch (action) {
    case daemon_config::Action::kHelp: std::fputs(daemon_config::usage().c_str(), stdout); return 0;
    case daemon_config::Action::kVersion: std::printf("shmkvd %s\n", kVersion); return 0;
    case daemon_config::Action::kRemoveStore:
      log::set_level(config.log_level);
      log::to_journal_if_connected();
      return remove_store(config);
    case daemon_config::Action::kServe: break;
  }
  log::set_level(config.log_level);
  log::to_journal_if_connected();
  return serve(config);
}
