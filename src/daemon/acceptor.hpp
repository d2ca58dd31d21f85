// Acceptor: how idle workers wait for connections. One of them, the leader,
// sleeps on the listening sockets; the others, its followers, sleep on the
// scoreboard's hand-off eventfd. A worker that takes a connection gives the
// lead up and wakes nobody: the next worker to find the listen queues empty
// takes it, and a follower is woken to lead only when a worker is about to
// sleep on its client with nobody leading (Scoreboard::keep_leader).
#pragma once

#include <signal.h>

#include <vector>

#include "daemon/listeners.hpp"
#include "daemon/scoreboard.hpp"
#include "store/store.hpp"

namespace shmkv::acceptor {

// Why not every idle worker on the listeners, with EPOLLEXCLUSIVE: each new
// connection then wakes a sleeping worker, even when a busy one would take
// it a few microseconds later, so a server at full load pays a pair of
// context switches per connection (shmkv-bench --mode conn -c 16: 65,571 of
// the workers' 82,000 switches were wake-ups in epoll_wait on the
// listeners). With one leader, a connection wakes a worker only when the
// leader sleeps; under load the queues seldom empty and nobody leads, and
// the workers go from one connection to the next without sleeping, as the
// original single-process server does. make bench, 16 such clients: 1.70
// context switches per connection for the whole machine before, 0.31 after,
// and 43,257 connections a second against 31,682.
//
// What a worker that stopped leading leaves: new connections wait in the
// listen queue for the next worker to finish its connection, at most while
// that worker runs. Before it sleeps on a client (a read or a write that
// would block), waits for a snapshot save, or exits, it wakes a follower to
// lead, so a slow client delays nobody; the parent does the same for a
// worker that dies or is stopped, and kills one stopped while idle, which
// would otherwise take wake-ups meant for the pool (parent.cpp). One case is
// left: behind a long command (KEYS over a million keys), new connections
// wait for its end, at most a second: followers also wake on their own,
// once a second, for the expiry sweep (sweeper::kIntervalMs), and take them.

class Acceptor {
 public:
  // slot is the calling worker's scoreboard slot.
  Acceptor(const std::vector<listeners::Listener>& listeners, scoreboard::Scoreboard& board, int slot,
           store::Store& store, const sigset_t* wait_mask, const volatile sig_atomic_t* stop);
  ~Acceptor();
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  // next returns an accepted non-blocking socket and sets *protocol to its
  // listener's, or returns -1 on stop or failure. It sweeps expired keys
  // while it waits (sweeper.hpp).
  int next(listeners::Protocol* protocol);

 private:
  int take(listeners::Protocol* protocol);
  bool lead();
  void resign();
  bool wait(int epoll_fd);
  bool open();

  const std::vector<listeners::Listener>& listeners_;
  scoreboard::Scoreboard& board_;
  const int slot_;
  store::Store& store_;
  const sigset_t* const wait_mask_;
  const volatile sig_atomic_t* const stop_;
  int listeners_epoll_ = -1;  // the listeners: where the leader sleeps
  int handoff_epoll_ = -1;    // the hand-off eventfd: where followers sleep
};

// worker_died forgets slot's worker, now dead, as a follower or as the
// leader, and wakes a follower to lead when nobody does: for the parent, as
// it reaps a worker (killed, it may have been the only one taking
// connections).
void worker_died(scoreboard::Scoreboard& board, int slot);

}  // namespace shmkv::acceptor
