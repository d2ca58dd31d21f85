#include "daemon/acceptor.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "common/log.hpp"
#include "daemon/sweeper.hpp"

namespace shmkv::acceptor {

using scoreboard::Scoreboard;

Acceptor::Acceptor(const std::vector<listeners::Listener>& listeners, scoreboard::Scoreboard& board, int slot,
                   store::Store& store, const sigset_t* wait_mask, const volatile sig_atomic_t* stop)
    : listeners_(listeners), board_(board), slot_(slot), store_(store), wait_mask_(wait_mask), stop_(stop) {}

Acceptor::~Acceptor() {
  if (listeners_epoll_ >= 0) close(listeners_epoll_);
  if (handoff_epoll_ >= 0) close(handoff_epoll_);
}

int Acceptor::next(listeners::Protocol* protocol) {
  if (listeners_epoll_ < 0 && !open()) return -1;
  for (;;) {
    if (*stop_) break;
    // A connection already waiting is taken without sleeping: under load,
    // the queues seldom empty (see the header).
    if (const int conn = take(protocol); conn >= 0) {
      resign();
      return conn;
    }
    if (lead()) {
      // A wake-up says only that a listener has a connection; the loop
      // takes it, unless another worker, or the parent, was quicker.
      if (!wait(listeners_epoll_)) break;
      continue;
    }
    // Follow. Counted first, then the lead looked at once more: a leader
    // that steps down meanwhile then either sees this follower (and wakes
    // one) or leaves the lead to it.
    board_.followers.fetch_add(1);
    board_.slot(slot_).following.store(true);
    const bool leading = lead();
    const bool waited = leading || wait(handoff_epoll_);
    // Cleared before the count goes down, so that a death in between leaves
    // the count high (an extra hand-off, harmless), never low.
    board_.slot(slot_).following.store(false);
    board_.followers.fetch_sub(1);
    if (!waited) break;
    std::uint64_t count;
    [[maybe_unused]] const ssize_t n = read(board_.handoff_fd, &count, sizeof count);  // EAGAIN: taken by another
  }
  resign();
  return -1;
}

// take accepts a connection waiting on a (non-blocking) listener, or
// returns -1 when there is none.
int Acceptor::take(listeners::Protocol* protocol) {
  for (const listeners::Listener& l : listeners_) {
    const int conn = accept4(l.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (conn >= 0) {
      *protocol = l.protocol;
      return conn;
    }
    // EAGAIN: the queue is empty.
    if (errno != EAGAIN && errno != ECONNABORTED && errno != EINTR) log::error("{}", errno_text("accept", errno));
  }
  return -1;
}

// lead makes this worker the leader, if it is not already and nobody is.
bool Acceptor::lead() {
  int nobody = Scoreboard::kNoLeader;
  return board_.leader.load() == slot_ || board_.leader.compare_exchange_strong(nobody, slot_);
}

void Acceptor::resign() {
  int self = slot_;
  board_.leader.compare_exchange_strong(self, Scoreboard::kNoLeader);
}

// wait sleeps in epoll_fd until it is readable, a stop signal comes (the
// wait opens it atomically: no lost wake-up), or an expiry sweep is due,
// and then runs the sweep if this worker claims it. False on failure.
bool Acceptor::wait(int epoll_fd) {
  epoll_event events[8];
  const int n = epoll_pwait(epoll_fd, events, 8, sweeper::wait_ms(board_), wait_mask_);
  if (n == 0) sweeper::turn(store_, board_, board_.slot(slot_));
  if (n < 0 && errno != EINTR) {
    log::error("{}", errno_text("epoll_wait", errno));
    return false;
  }
  return true;
}

bool Acceptor::open() {
  listeners_epoll_ = epoll_create1(EPOLL_CLOEXEC);
  handoff_epoll_ = epoll_create1(EPOLL_CLOEXEC);
  if (listeners_epoll_ < 0 || handoff_epoll_ < 0) {
    log::error("{}", errno_text("epoll_create1", errno));
    return false;
  }
  // EPOLLEXCLUSIVE: the parent may wait on the listeners too, and
  // followers on the eventfd are many; a hand-off wakes one of them.
  auto add = [](int epoll_fd, int fd, const std::string& name) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) == 0) return true;
    log::error("{}", errno_text("epoll_ctl " + name, errno));
    return false;
  };
  for (const listeners::Listener& l : listeners_)
    if (!add(listeners_epoll_, l.fd, l.name)) return false;
  return add(handoff_epoll_, board_.handoff_fd, "hand-off eventfd");
}

void worker_died(scoreboard::Scoreboard& board, int slot) {
  if (board.slot(slot).following.load()) board.followers.fetch_sub(1);
  int dead = slot;
  board.leader.compare_exchange_strong(dead, Scoreboard::kNoLeader);
  board.keep_leader();  // it may also have been the last worker taking connections
}

}  // namespace shmkv::acceptor
