#include "daemon/blocking_read.hpp"

#include <sys/ioctl.h>
#include <sys/socket.h>

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

Scope::Scope(int fd, int timeout_ms, const sigset_t* open_mask) {
  int non_blocking = 0;
  const timeval timeout{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ok_ = ioctl(fd, FIONBIO, &non_blocking) == 0 &&
        (timeout_ms == 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) == 0);
  if (ok_) pthread_sigmask(SIG_SETMASK, open_mask, &saved_mask_);
}

Scope::~Scope() {
  if (ok_) pthread_sigmask(SIG_SETMASK, &saved_mask_, nullptr);
}

std::size_t read(int fd, char* buf, std::size_t len, bool between, const volatile sig_atomic_t* stop,
                 std::string_view peer) {
  for (;;) {
    if (between) g_waiting_fd = fd;
    const ssize_t got = (between && *stop) ? -1 : recv(fd, buf, len, 0);
    const int err = errno;
    g_waiting_fd = -1;
    if (got > 0) return static_cast<std::size_t>(got);  // answered even if a stop came meanwhile
    // A stop before the read, or during it: then the handler's shutdown
    // looks like the client's close.
    if (got == 0 || (between && *stop)) return 0;
    if (err == EINTR) continue;
    if (err == EAGAIN) log::debug("{}: idle, closing", peer);
    else log::debug("{}", errno_text(std::string(peer) + ": read", err));
    return 0;
  }
}

}  // namespace shmkv::blocking_read
