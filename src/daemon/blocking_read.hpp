// blocking_read: a connection's waits for input as blocking recv() calls,
// with the idle timeout, and inside a request its request timeout, as
// SO_RCVTIMEO; and the worker's stop signal handler, which ends a wait
// between requests by shutting the socket's read side. One system call per
// wait, where a ppoll() on the socket and timerfds, then a read(), were two.
#pragma once

#include <signal.h>

#include <chrono>
#include <cstddef>
#include <string_view>

namespace shmkv::blocking_read {

using Clock = std::chrono::steady_clock;

// install_stop_handler makes SIGTERM and SIGINT set *stop, as the parent's
// handler does, and end a wait between requests in progress. For a worker,
// after fork. The handler restarts interrupted calls (SA_RESTART) that can
// be restarted, so that an open stop signal costs the rest of the code no
// EINTR but from poll() and timed waits.
void install_stop_handler(volatile sig_atomic_t* stop);

// Why read returned 0.
enum class End { kClosed, kIdle, kLate, kStop, kFailed };

// Reader readies fd, an accepted non-blocking socket, for blocking reads
// for as long as it lives: the socket blocks (sends stay non-blocking: send
// with MSG_DONTWAIT), and the signals open in open_mask are open, so that a
// stop ends a wait. ok() is false (errno set) when fd could not be readied.
class Reader {
 public:
  Reader(int fd, int idle_timeout_ms, const sigset_t* open_mask, const volatile sig_atomic_t* stop);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  bool ok() const { return ok_; }

  // read reads what has arrived into buf, waiting for it up to the idle
  // timeout and, inside a request (between false) with a deadline, not
  // past that. It returns the bytes read, or 0 when the connection is done,
  // and then end() says why: the client closed (kClosed), it idled out
  // (kIdle, logged at debug level naming peer), the request's deadline
  // passed (kLate), a stop came between requests (kStop: a stop does not
  // end the wait for the rest of one), or a read failed (kFailed, logged).
  std::size_t read(char* buf, std::size_t len, bool between, std::string_view peer,
                   Clock::time_point deadline = {});
  End end() const { return end_; }

 private:
  // set_timeout makes SO_RCVTIMEO ms (0: none), unless it is already.
  bool set_timeout(long ms);

  const int fd_;
  const int idle_timeout_ms_;
  const volatile sig_atomic_t* const stop_;
  long timeout_ms_ = 0;  // the SO_RCVTIMEO in force
  sigset_t saved_mask_{};
  bool ok_ = false;
  End end_ = End::kClosed;
};

}  // namespace shmkv::blocking_read
