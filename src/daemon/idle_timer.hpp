// idle_timer: a JSON connection's --idle-timeout while it waits for the rest
// of a message, as a timerfd polled beside the socket (waits between
// requests block in recv instead: blocking_read.hpp), and the monotonic
// clock and timerfd helpers the connection's timers share.
#pragma once

#include <cstdint>

namespace shmkv::idle_timer {

// now_ns is the monotonic clock in nanoseconds.
std::uint64_t now_ns();

// set_timer arms timer_fd to expire once, ns (> 0) from now, or at ns on the
// monotonic clock (flags TFD_TIMER_ABSTIME).
bool set_timer(int timer_fd, std::uint64_t ns, int flags = 0);

// Timer is armed once per connection, at its first wait, and again only
// when it expires in a wait that has not lasted the timeout. A ppoll()
// timeout armed and cancelled a kernel timer on every wait instead: without
// it, requests cost 2 to 5% less CPU (shmkv-bench keep, c=1 and c=50,
// daemon and client on one CPU).
class Timer {
 public:
  explicit Timer(int timeout_ms) : timeout_ns_(std::uint64_t(timeout_ms) * 1'000'000) {}
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // begin starts a connection: the timer is armed at its first wait.
  void begin() { armed_ = false; }
  // arm makes and arms the timer unless it is armed for this connection;
  // false (errno set) when it cannot be.
  bool arm();
  // fd is the timerfd to poll for POLLIN; -1 before the first arm.
  int fd() const { return fd_; }
  // expired says, once fd is readable, whether the wait that began at
  // began_ns has lasted the timeout; if it has not (the timer was armed at
  // an earlier wait), the timer is armed again for the rest.
  bool expired(std::uint64_t began_ns);

 private:
  const std::uint64_t timeout_ns_;
  int fd_ = -1;
  bool armed_ = false;  // armed for the connection being served
};

}  // namespace shmkv::idle_timer
