// blocking_read: a connection's waits for input as blocking recv() calls,
// its idle timeout as SO_RCVTIMEO, and the worker's stop signal handler,
// which ends a wait between requests by shutting the socket's read side.
// One system call per wait instead of a ppoll() and a read().
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstddef>
#include <string_view>

namespace shmkv::blocking_read {

// install_stop_handler makes SIGTERM and SIGINT set *stop, as the parent's
// handler does, and end a wait between requests in progress. For a worker,
// after fork. The handler restarts interrupted calls (SA_RESTART) that can
// be restarted, so that an open stop signal costs the rest of the code no
// EINTR but from poll() and timed waits.
void install_stop_handler(volatile sig_atomic_t* stop);

// Scope readies fd, an accepted non-blocking socket, for blocking reads for
// as long as it lives: the socket blocks (sends stay non-blocking: send
// with MSG_DONTWAIT), a read gives up after timeout_ms without input (0:
// never), and the signals open in open_mask are open, so that a stop ends
// a wait. ok() is false (errno set) when fd could not be readied.
class Scope {
 public:
  Scope(int fd, int timeout_ms, const sigset_t* open_mask);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

  bool ok() const { return ok_; }

 private:
  sigset_t saved_mask_{};
  bool ok_ = false;
};

// read reads what has arrived on fd into buf, waiting for it up to the idle
// timeout, and returns the bytes read; 0 when the connection is done: the
// client closed, it idled out or a read failed (logged at debug level,
// naming peer), or a stop came while between was true, that is while no
// request was begun (a stop does not end the wait for the rest of one).
std::size_t read(int fd, char* buf, std::size_t len, bool between, const volatile sig_atomic_t* stop,
                 std::string_view peer);

}  // namespace shmkv::blocking_read
