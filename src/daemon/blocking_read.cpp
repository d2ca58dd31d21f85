#include "daemon/blocking_read.hpp"

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "common/log.hpp"
#include "shmkv/status.hpp"

namespace shmkv::blocking_read {
namespace {

volatile sig_atomic_t* g_stop = nullptr;
// The socket a wait between requests is reading, or -1. Set before the stop
// flag is looked at and cleared after the read, so that a stop arriving in
// between finds it and ends the read. A stop that lands just as the read
// returns the first bytes of a request counts as one between requests: the
// rest may not be read, as if the stop had come a moment earlier.
volatile sig_atomic_t g_waiting_fd = -1;

void on_stop(int) {
  const int saved = errno;
  *g_stop = 1;
  if (const int fd = g_waiting_fd; fd >= 0) shutdown(fd, SHUT_RD);  // async-signal-safe
  errno = saved;
}

}  // namespace

void install_stop_handler(volatile sig_atomic_t* stop) {
  g_stop = stop;
  struct sigaction sa {};
  sa.sa_handler = on_stop;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

Reader::Reader(int fd, int idle_timeout_ms, const sigset_t* open_mask, const volatile sig_atomic_t* stop)
    : fd_(fd), idle_timeout_ms_(idle_timeout_ms), stop_(stop) {
  int non_blocking = 0;
  ok_ = ioctl(fd, FIONBIO, &non_blocking) == 0 && set_timeout(idle_timeout_ms);
  if (ok_) pthread_sigmask(SIG_SETMASK, open_mask, &saved_mask_);
}

Reader::~Reader() {
  if (ok_) pthread_sigmask(SIG_SETMASK, &saved_mask_, nullptr);
}

bool Reader::set_timeout(long ms) {
  if (ms == timeout_ms_) return true;
  const timeval timeout{ms / 1000, (ms % 1000) * 1000};
  if (setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0) return false;
  timeout_ms_ = ms;
  return true;
}

std::size_t Reader::read(char* buf, std::size_t len, bool between, std::string_view peer,
                         Clock::time_point deadline) {
  const bool timed = !between && deadline != Clock::time_point{};
  for (;;) {
    // Inside a request the wait ends at its deadline, or sooner when the
    // idle timeout is shorter: SO_RCVTIMEO is set anew for each such read
    // (a request that arrives whole in one read never gets here).
    long wait_ms = idle_timeout_ms_;
    if (timed) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) {
        end_ = End::kLate;
        return 0;
      }
      if (wait_ms == 0 || left < wait_ms) wait_ms = static_cast<long>(left);
    }
    if (!set_timeout(wait_ms)) {
      end_ = End::kFailed;
      log::debug("{}", errno_text(std::string(peer) + ": setting the receive timeout", errno));
      return 0;
    }
    if (between) g_waiting_fd = fd_;
    const ssize_t got = (between && *stop_) ? -1 : recv(fd_, buf, len, 0);
    const int err = errno;
    g_waiting_fd = -1;
    if (got > 0) return static_cast<std::size_t>(got);  // answered even if a stop came meanwhile
    // A stop before the read, or during it: then the handler's shutdown
    // looks like the client's close.
    if (between && *stop_) {
      end_ = End::kStop;
      return 0;
    }
    if (got == 0) {
      end_ = End::kClosed;
      return 0;
    }
    if (err == EINTR) continue;
    if (err == EAGAIN && wait_ms != idle_timeout_ms_) continue;  // the deadline: looked at above
    if (err == EAGAIN) {
      end_ = End::kIdle;
      log::debug("{}: idle, closing", peer);
    } else {
      end_ = End::kFailed;
      log::debug("{}", errno_text(std::string(peer) + ": read", err));
    }
    return 0;
  }
}

}  // namespace shmkv::blocking_read
