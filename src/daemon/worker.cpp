#include "daemon/worker.hpp"

#include <signal.h>
#include <unistd.h>

#include <memory>

#include "daemon/acceptor.hpp"
#include "daemon/resp_connection.hpp"

namespace shmkv::worker {

using scoreboard::State;

void run(int first_conn, listeners::Protocol first_protocol, store::Store& store, const Config& config) {
  scoreboard::Scoreboard& board = *config.board;
  scoreboard::Slot& slot = board.slot(config.slot);
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
      if (protocol == listeners::Protocol::kResp) {
        if (!resp_handler)
          resp_handler = std::make_unique<resp_connection::Handler>(store, board, connection, config.resp, &slot);
        resp_handler->serve(conn);
      } else {
        handler.serve(conn);
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
