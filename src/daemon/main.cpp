// shmkvd: the shmkv daemon.
//
// Process model. The parent process opens (or creates) the shared-memory store
// and claims it, opens the listening sockets (or takes those systemd passed),
// and then only keeps the pool of workers (parent.cpp): it forks, counts and
// reaps them. Each connection is served by exactly one worker process
// (worker.cpp; connection.cpp for our JSON protocol, resp_connection.cpp for
// RESP), and a worker serves one connection at a time. Idle workers also
// remove expired keys, a bounded step at a time (sweeper.hpp), and snapshots
// on the interval and at shutdown are written by a short-lived child
// (snapshotter.hpp): the parent itself takes the store's lock only at
// start-up, to load a snapshot, before any worker exists.
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
// --spare-workers are idle, and takes the next connection from the
// inherited listening sockets itself (Apache's prefork): first one already
// waiting in a listen queue (accept4 on the non-blocking listener), without
// sleeping; when there is none, it sleeps, either as the one idle worker
// waiting on the listeners or as one of the others, which wait their turn
// (a leader and its followers: acceptor.hpp). So a new connection wakes a
// worker only when the listen queues had emptied, not each time. The
// worker that takes the last idle slot tells the parent (SIGUSR1), which
// forks a spare; the parent accepts and forks for a connection itself only
// when no worker is idle and no spare could be had. JSON TCP listeners
// defer accept until a connection's first bytes are in (TCP_DEFER_ACCEPT; a
// RESP client may connect and wait), so the worker that takes a connection
// reads its request at once instead of sleeping until it comes. Each sleep
// costs a pair of context switches, dear on the paravirtualised machines we
// measure on.
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
// request each, with idle workers taking turns at the listeners): 13.7 times
// the connections a second of a fresh fork per connection (--spare-workers
// 0), at 0.31 context switches per connection for the whole machine.
//
// Signals. Handlers only set flags. SIGCHLD, SIGTERM and SIGINT stay blocked
// except inside ppoll(), which unblocks them atomically, so no signal can
// arrive between a check of a flag and the wait (no lost wake-up).
//
// Shutdown. On SIGTERM or SIGINT the parent closes the listeners and passes
// SIGTERM on to every worker; a worker answers the requests it has read, or is
// reading, and exits. Workers still running after --shutdown-timeout are
// killed. With --snapshot a child then writes a last snapshot. The parent
// exits 0; the store, and its data, stay for a restart.
//
// Crash policy. One function decides what a worker's death means
// (Parent::reap, in parent.cpp): every abnormal death is logged once with its
// signal or exit code, its slot is freed and the pool refilled. Outside the
// store it costs only its connection. Inside the store (its scoreboard slot
// says so) the map may be half-changed and the robust mutex is left to a dead
// owner, so the parent stops every worker, has a child process salvage the
// map into a fresh segment (recovery.cpp: every node checked against the
// segment's bounds, within a time limit, into a larger segment when the
// entries need it), gives the fresh segment the store's name and resumes:
// acknowledged writes survive, and the dead worker's own unacknowledged
// request is lost. Requests that were waiting for the lock are answered
// "store unavailable: recovering, retry". A salvage that dies (the OOM
// killer's favourite) is retried with a growing wait; one that finds the map
// damaged leaves the store unserved (data requests get an error, STATS says
// why) until an operator acts. A worker that holds the store lock longer than
// --lock-timeout (stopped, looping, swapped out) is killed, which makes it
// such a death. The same health check runs at start-up on an existing store.
//
// This file is the start-up sequence; each step's errors are reported on
// stderr before the daemon detaches (--daemonize), so that they are seen.

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "daemon/daemon_config.hpp"
#include "daemon/daemonize.hpp"
#include "daemon/listeners.hpp"
#include "common/log.hpp"
#include "common/standard_fds.hpp"
#include "daemon/parent.hpp"
#include "daemon/recovery.hpp"
#include "daemon/scoreboard.hpp"
#include "daemon/snapshotter.hpp"
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
  if (Status s = store::Store::open(config.name, config.memory, &store, config.segment); !s) {
    if (s.code() != Status::Code::kCorrupt) return fail(s);
  } else if (Status s = store->claim(); !s) {
    return fail(s);
  } else {
    store->retire();  // local readers still mapping it let go of it (shmkv-protocol(7), Local readers)
  }
  if (Status s = store::Store::remove(config.name); !s) return fail(s);
  log::info("removed store {}", config.name);
  return 0;
}

// check_health runs at start-up on an existing store: a daemon killed while
// a worker held the store lock left it unusable, and the store is rebuilt
// before anything is served.
// A salvage killed from outside is tried again, up to kStartAttempts times.
Status check_health(std::unique_ptr<store::Store>& store, const daemon_config::Config& config) {
  constexpr int kStartAttempts = 5;
  Status s = recovery::check(*store, 2000);
  if (s || s.code() != Status::Code::kCorrupt) return s;
  log::error("{}: rebuilding it before serving", s.message());
  const std::size_t old_bytes = store->size();
  recovery::Rebuilt rebuilt;
  Status r;
  for (int attempt = 1; attempt <= kStartAttempts; ++attempt) {
    r = recovery::rebuild(&store, {recovery::kSalvageTimeoutMs, config.debug_salvage_delay_ms}, &rebuilt);
    if (r || !recovery::retryable(r) || attempt == kStartAttempts) break;
    log::error("salvage attempt {} of store {} failed: {}; retrying", attempt, store->name(), r.message());
    std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
  }
  if (!r)
    return Status::corrupt(fmt::format("store {} cannot be served: {}; remove it with --remove-store to start "
                                       "empty", store->name(), r.message()));
  log::warning("store {} rebuilt: {} keys copied into a fresh segment of {} bytes{}", store->name(), rebuilt.keys,
               rebuilt.bytes, rebuilt.bytes != old_bytes ? fmt::format(" (the old one had {})", old_bytes) : "");
  return Status::ok();
}

// make_store makes the store, absent until now: empty, or from the
// snapshot when snapshots are on (after a reboot; empty too when there is
// no snapshot file yet). It is made in a scratch segment, which takes the
// store's name only once it is whole: a start killed while it sets up the
// segment or loads the snapshot (SIGKILL, the OOM killer) leaves no
// half-made store, which the next start could not open, or would keep as
// newer than the snapshot; the next start removes the scratch and begins
// again. The load is the parent's one use of the store lock, before any
// worker exists.
Status make_store(const daemon_config::Config& config, std::unique_ptr<store::Store>* out) {
  const std::string scratch = config.name + ".load";
  std::unique_ptr<store::Store> store;
  for (int attempt = 1;; ++attempt) {
    Status s = store::Store::open(scratch, config.memory, &store, config.segment);
    if (s) {
      if (Status c = store->claim(); !c) return c;  // another shmkvd is making this store
      if (store->created()) break;
    } else if (attempt > 1 || s.code() == Status::Code::kInvalid) {
      return s;  // kInvalid: another user's segment, or one open to others (Planted segment)
    }
    // Ours, left by a start killed while it made the store: perhaps before
    // the segment was set up, which open then finds unreadable.
    log::warning("removing {}, left by an earlier start that did not finish making the store", scratch);
    store.reset();
    if (Status r = store::Store::remove(scratch); !r) return r;
  }
  if (!config.snapshot_path.empty()) {
    std::size_t loaded = 0;
    if (Status s = snapshotter::load_at_start(*store, config.snapshot_path, &loaded); !s) {
      store.reset();
      store::Store::remove(scratch);
      return s;
    }
  }
  store.reset();  // its claim goes; the store takes one under its own name
  if (Status s = store::Store::publish(scratch, config.name); !s) {
    store::Store::remove(scratch);
    return s;
  }
  if (Status s = store::Store::open(config.name, config.memory, out, config.segment); !s) return s;
  return (*out)->claim();
}

// open_store opens the store, or makes it (*made). An existing store is
// newer than any snapshot and is kept; a daemon killed while a worker held
// its lock left it unusable, and check_health rebuilds it first.
Status open_store(const daemon_config::Config& config, std::unique_ptr<store::Store>* store, bool* made) {
  *made = !store::Store::exists(config.name);
  if (*made) return make_store(config, store);
  if (Status s = store::Store::open(config.name, config.memory, store, config.segment); !s) return s;
  if (Status s = (*store)->claim(); !s) return s;
  if (!config.snapshot_path.empty()) {
    log::info("store {} exists: kept, as it is newer than snapshot {}", config.name, config.snapshot_path);
    std::size_t loaded = 0;  // none: this removes what a crashed save left beside the snapshot
    if (Status s = snapshotter::load_at_start(**store, config.snapshot_path, &loaded); !s) return s;
  }
  return check_health(*store, config);
}

int serve(const daemon_config::Config& config) {
  daemonize::Pidfile pidfile;
  if (!config.pidfile.empty())
    if (Status s = pidfile.lock(config.pidfile); !s) return fail(s);

  // One slot beyond --max-children for a snapshot child (parent.cpp).
  scoreboard::Scoreboard* board = scoreboard::Scoreboard::create(static_cast<std::size_t>(config.max_children) + 1);
  if (!board) return fail(Status::io(errno_text("making the scoreboard", errno)));
  const snapshotter::DebugDelays snapshot_delays{config.debug_snapshot_delay_ms, config.debug_snapshot_copy_pause_ms};
  if (Status s = snapshotter::init(*board, config.snapshot_path, snapshot_delays); !s) return fail(s);
  std::unique_ptr<store::Store> store;
  bool made = false;
  if (Status s = open_store(config, &store, &made); !s) return fail(s);

  std::vector<listeners::Listener> listening;
  bool activated = false;
  const listeners::Config listen{config.bind,    config.port,      config.socket_path,     config.socket_mode,
                                 config.backlog, config.resp_port, config.resp_socket_path};
  if (Status s = listeners::open_all(listen, &listening, &activated); !s) {
    if (made) {  // leave nothing behind from a start that failed
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
            made ? "created" : "attached", store->key_count(), store->counts().store_bytes,
            activated ? " on sockets from systemd" : "");
  if (!made && store->counts().store_bytes != config.memory)
    log::info("store {} keeps its size of {} bytes; --memory applies to a new store", config.name,
              store->counts().store_bytes);

  const int status = parent::run(config, listening, store, *board);
  pidfile.remove();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  // A listening socket or a client's connection must never be 1 or 2,
  // where log lines and --help go.
  if (!standard_fds::open_closed()) {
    std::perror("shmkvd: opening /dev/null on a closed standard descriptor");
    return 1;
  }
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
