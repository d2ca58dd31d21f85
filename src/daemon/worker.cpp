#include "daemon/worker.hpp"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <memory>

#include "common/log.hpp"
#include "daemon/sweeper.hpp"
#include "daemon/resp_connection.hpp"

namespace shmkv::worker {
namespace {

using scoreboard::State;

// Acceptor finds a worker its next connection. It first takes one that is
// already waiting in a listen queue, without sleeping: with 16 one-request
// clients a worker that has just closed a connection finds the next one
// there one time in seven to one in two, from run to run, where sleeping
// to be woken for it costs a pair of context switches (perf,
// shmkv-bench --mode conn -c 16). Only on an
// empty queue does it sleep, in its own epoll set with EPOLLEXCLUSIVE, so
// that a new connection wakes one idle worker, not all of them (accept4
// calls that find nothing are about as many as the sleeps: wake-ups are not
// wasted); epoll_pwait opens the stop signal atomically (no lost wake-up).
class Acceptor {
 public:
  Acceptor(const Config& config, store::Store& store) : config_(config), store_(store) {}
  ~Acceptor() {
    if (epoll_fd_ >= 0) close(epoll_fd_);
  }

  // next returns an accepted non-blocking socket and sets *protocol to its
  // listener's, or returns -1 on stop or failure.
  int next(listeners::Protocol* protocol) {
    if (epoll_fd_ < 0 && !open()) return -1;
    epoll_event events[8];
    for (;;) {
      if (*config_.connection.stop) return -1;
      for (const listeners::Listener& l : *config_.listeners) {
        if (const int conn = take(l.fd); conn >= 0) {
          *protocol = l.protocol;
          return conn;
        }
      }
      // A wake-up says only that a listener has a connection; the loop
      // takes it, unless another worker, or the parent, was quicker. An
      // idle worker also wakes when an expiry sweep is due (sweeper.hpp).
      const int n = epoll_pwait(epoll_fd_, events, 8, sweeper::wait_ms(*config_.board), config_.connection.wait_mask);
      if (n == 0) sweeper::turn(store_, *config_.board, config_.board->slot(config_.slot));
      if (n < 0 && errno != EINTR) {
        log::error("{}", errno_text("epoll_wait", errno));
        return -1;
      }
    }
  }

 private:
  // take accepts a connection waiting on the (non-blocking) listener, or
  // returns -1 when there is none.
  static int take(int listener) {
    const int conn = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (conn >= 0) return conn;
    // EAGAIN: the queue is empty.
    if (errno != EAGAIN && errno != ECONNABORTED && errno != EINTR) log::error("{}", errno_text("accept", errno));
    return -1;
  }

  bool open() {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) {
      log::error("{}", errno_text("epoll_create1", errno));
      return false;
    }
    for (std::uint32_t i = 0; i < config_.listeners->size(); ++i) {
      const listeners::Listener& l = (*config_.listeners)[i];
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLEXCLUSIVE;
      ev.data.u32 = i;  // the listener's index
      if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, l.fd, &ev) < 0) {
        const int err = errno;
        log::error("{}", errno_text("epoll_ctl " + l.name, err));
        return false;
      }
    }
    return true;
  }

  const Config& config_;
  store::Store& store_;
  int epoll_fd_ = -1;
};

}  // namespace

void run(int first_conn, listeners::Protocol first_protocol, store::Store& store, const Config& config) {
  scoreboard::Scoreboard& board = *config.board;
  scoreboard::Slot& slot = board.slot(config.slot);
  // Show the parent how long this worker holds the store lock, and stop a
  // wait for it once the parent has found its holder dead.
  store.watch_lock({&slot.lock_held_since, [&board] { return board.health.load() != scoreboard::Health::kOk; }});
  connection::Handler handler(store, board, config.connection, &slot);
  std::unique_ptr<resp_connection::Handler> resp_handler;  // made at the first RESP connection
  Acceptor acceptor(config, store);
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
          resp_handler = std::make_unique<resp_connection::Handler>(store, board, config.connection, config.resp, &slot);
        resp_handler->serve(conn);
      } else {
        handler.serve(conn);
      }
      close(conn);
      ++served;
      // Stay for another connection only while the pool is short of spares.
      if (*config.connection.stop || served >= config.max_connections ||
          board.count(State::kIdle) >= config.spare_workers)
        return;
      slot.state.store(State::kIdle);
    }
    conn = acceptor.next(&protocol);
    if (conn < 0) return;
  }
}

}  // namespace shmkv::worker
