#include "daemon/worker.hpp"

#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <new>

#include "daemon/acceptor.hpp"
#include "daemon/resp_connection.hpp"
#include "common/log.hpp"
#include "common/net.hpp"

namespace shmkv::worker {

using scoreboard::State;

namespace {

// sched_other_policy is this process's policy, SCHED_RESET_ON_FORK included,
// when it is SCHED_OTHER, and -1 for any other: one that chrt(1) or systemd
// chose, and that is kept.
int sched_other_policy() {
  const int policy = sched_getscheduler(0);
  return policy >= 0 && (policy & ~SCHED_RESET_ON_FORK) == SCHED_OTHER ? policy : -1;
}

}  // namespace

// Woken by its client's request, a SCHED_OTHER worker may preempt the
// process that woke it: a client writing to many connections in turn (a
// proxy, a pool, redis-benchmark) is switched out after each write, and
// switched in again for the next. Under SCHED_BATCH the waker goes on until
// it sleeps, and the workers then run one after the other: measured with
// redis-benchmark -c 50 on two CPUs, 1.47 context switches per request
// became 1.08 (shmkvd(8), --worker-scheduling).
void use_batch_scheduling() {
  if (sched_other_policy() < 0) return;
  const sched_param param{};
  if (sched_setscheduler(0, SCHED_BATCH, &param) != 0)
    log::warning("{}", errno_text("worker: sched_setscheduler SCHED_BATCH", errno));
}

bool batch_scheduling_allowed() {
  const int policy = sched_other_policy();
  if (policy < 0) return false;
  const sched_param param{};
  if (sched_setscheduler(0, policy, &param) == 0) return true;  // the policy it has: a probe
  log::warning("{}: the workers stay under SCHED_OTHER (allow the call, or give --worker-scheduling other)",
               errno_text("sched_setscheduler", errno));
  return false;
}

void run(int first_conn, listeners::Protocol first_protocol, store::Store& store, const Config& config) {
  scoreboard::Scoreboard& board = *config.board;
  scoreboard::Slot& slot = board.slot(config.slot);
  if (config.batch_scheduling) use_batch_scheduling();
  // Show the parent how long this worker holds the store lock, and stop a
  // wait for it once the parent has found its holder dead.
  store.watch_lock({&slot.lock_held_since, [&board] { return board.health.load() != scoreboard::Health::kOk; }});
  connection::Config connection = config.connection;
  connection.before_wait = [&board] { board.keep_leader(); };
  connection::Handler handler(store, board, connection, &slot);
  std::unique_ptr<resp_connection::Handler> resp_handler;  // made at the first RESP connection
  acceptor::Acceptor acceptor(*config.listeners, board, config.slot, store, config.connection.wait_mask,
                              config.connection.stop);
  std::uint64_t served = 0;
  int conn = first_conn;
  listeners::Protocol protocol = first_protocol;
  for (;;) {
    if (conn >= 0) {
      slot.state.store(State::kBusy);
      board.connections_total.fetch_add(1, std::memory_order_relaxed);
      // The last idle worker just went busy: ask the parent for a spare, so
      // that the next client finds somebody waiting in accept().
      if (config.spare_workers > 0 && board.count(State::kIdle) == 0) kill(config.parent_pid, SIGUSR1);
      // A connection whose command the heap cannot answer is given up
      // rather than the worker. Unwinding leaves the store whole: under its
      // lock the store takes heap memory only to copy out what it read or to
      // word an error, before it changes anything.
      try {
        if (protocol == listeners::Protocol::kResp) {
          if (!resp_handler)
            resp_handler = std::make_unique<resp_connection::Handler>(store, board, connection, config.resp, &slot);
          resp_handler->serve(conn);
        } else {
          handler.serve(conn);
        }
      } catch (const std::bad_alloc&) {
        log::warning("closing connection from {}: out of memory", net::peer_name(conn));
      }
      close(conn);
      ++served;
      // Stay for another connection only while the pool is short of spares.
      if (*config.connection.stop || served >= config.max_connections ||
          board.count(State::kIdle) >= config.spare_workers) {
        board.keep_leader();  // it may have been the only one taking connections
        return;
      }
      slot.state.store(State::kIdle);
    }
    conn = acceptor.next(&protocol);
    if (conn < 0) return;
  }
}

}  // namespace shmkv::worker
