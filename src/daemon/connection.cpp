#include "daemon/connection.hpp"

#include <poll.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <simdjson.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>

#include "protocol/frame.hpp"
#include "common/log.hpp"
#include "common/net.hpp"
#include "protocol/reply.hpp"

namespace shmkv::connection {
namespace {

std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::uint64_t(ts.tv_sec) * 1'000'000'000 + std::uint64_t(ts.tv_nsec);
}

// set_timer arms the timerfd to expire once, ns (> 0) from now.
bool set_timer(int timer_fd, std::uint64_t ns) {
  itimerspec t{};
  t.it_value.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  t.it_value.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  return timerfd_settime(timer_fd, 0, &t, nullptr) == 0;
}

}  // namespace

Handler::Handler(store::Store& store, scoreboard::Scoreboard& board, const Config& config,
                 scoreboard::Slot* slot)
    : config_(config),
      capacity_(frame::kHeaderSize + config.max_message + simdjson::SIMDJSON_PADDING),
      buffer_(new char[capacity_]),
      dispatcher_(store, board, {config.max_message, config.debug_commands, slot}) {}

Handler::~Handler() {
  if (timer_fd_ >= 0) close(timer_fd_);
}

// arm_idle_timer starts the connection's idle timer at its first wait. The
// timer is a timerfd that each wait polls beside the socket, armed once per
// connection and again only when it expires on a wait that has not lasted
// the timeout. A ppoll() timeout armed and cancelled a kernel timer on every
// wait: without it, requests cost 2 to 5% less CPU (shmkv-bench keep, c=1
// and c=50, daemon and client on one CPU).
bool Handler::arm_idle_timer() {
  if (timer_armed_) return true;
  if (timer_fd_ < 0) timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (timer_fd_ < 0 || !set_timer(timer_fd_, idle_timeout_ns())) return false;
  timer_armed_ = true;
  return true;
}

// idle_expired says whether the wait that began at began_ns has lasted the
// idle timeout, once the timer has expired; if it has not (the timer was
// armed at an earlier wait), the timer is armed again for the rest.
bool Handler::idle_expired(std::uint64_t began_ns) {
  std::uint64_t expirations = 0;
  if (read(timer_fd_, &expirations, sizeof expirations) < 0) return false;  // not expired yet
  const std::uint64_t waited = now_ns() - began_ns;
  if (waited >= idle_timeout_ns()) return true;
  return !set_timer(timer_fd_, idle_timeout_ns() - waited);  // a timer that cannot be set ends the wait
}

// wait_readable waits for input, at most the idle timeout. A stop ends the
// wait only between messages: a message already begun is the request in
// hand, to be read and answered (the parent kills a worker that takes longer
// than --shutdown-timeout).
Handler::Wait Handler::wait_readable(int fd, bool mid_message) {
  const bool timed = config_.idle_timeout_ms > 0;
  if (timed && !arm_idle_timer()) return Wait::kFailed;
  const std::uint64_t began = timed ? now_ns() : 0;
  pollfd p[2] = {{fd, POLLIN, 0}, {timer_fd_, POLLIN, 0}};
  for (;;) {
    if (*config_.stop && !mid_message) return Wait::kStop;
    const int ready = ppoll(p, timed ? 2 : 1, nullptr, config_.wait_mask);
    if (ready < 0) {
      if (errno != EINTR) return Wait::kFailed;
      continue;
    }
    if (p[0].revents) return Wait::kReadable;
    if (p[1].revents && idle_expired(began)) return Wait::kIdle;
  }
}

// send_replies writes out_ whole, waiting (at most the idle timeout) while the
// client's receive window is full. False when the connection is gone.
bool Handler::send_replies(int fd) {
  std::size_t sent = 0;
  while (sent < out_.size()) {
    const ssize_t n = send(fd, out_.data() + sent, out_.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) {
      log::debug("{}", errno_text("write", errno));
      return false;
    }
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, config_.idle_timeout_ms > 0 ? config_.idle_timeout_ms : -1) <= 0) {
      log::debug("a client read no reply for {} ms: closing", config_.idle_timeout_ms);
      return false;
    }
  }
  // Replies to a pipelined batch of big values can take many megabytes: let
  // them go, rather than keep them for the worker's life.
  constexpr std::size_t kRepliesKept = std::size_t(1) << 20;
  if (out_.capacity() > kRepliesKept) std::string().swap(out_);
  else out_.clear();
  return true;
}

void Handler::serve(int fd) {
  char* const buffer = buffer_.get();
  const std::size_t usable = capacity_ - simdjson::SIMDJSON_PADDING;
  std::size_t used = 0;
  out_.clear();
  timer_armed_ = false;
  const std::string peer = log::enabled(log::Level::kDebug) ? net::peer_name(fd) : std::string();
  log::debug("connection from {}", peer);

  // A new connection's first request is usually there already: read at
  // once. After a reply the client usually waits for it before it sends
  // more: wait before reading again, rather than spend a read on EAGAIN.
  bool wait_first = false;
  for (;;) {
    if (wait_first) {
      switch (wait_readable(fd, used > 0)) {
        case Wait::kReadable: break;
        case Wait::kStop: return;
        case Wait::kIdle:
          log::debug("{}: idle, closing", peer);
          return;
        case Wait::kFailed:
          log::error("{}", errno_text("waiting for input", errno));
          return;
      }
    }
    const ssize_t n = read(fd, buffer + used, usable - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) {
        const int err = errno;
        log::debug("{}", errno_text(peer + ": read", err));
        return;
      }
      wait_first = true;
      continue;
    }
    if (n == 0) {
      if (used > 0) {  // the client stopped inside a message
        reply::error(out_, frame::truncated_version({buffer, used}), "truncated message");
        send_replies(fd);
      }
      return;
    }
    used += static_cast<std::size_t>(n);

    // Answer every whole message buffered so far; send the replies together.
    bool closing = false;
    std::size_t start = 0;
    messages_.clear();
    frame::DecodeResult m;
    while (!closing) {
      const std::string_view pending(buffer + start, used - start);
      m = frame::decode(pending, config_.max_message);
      if (m.what == frame::Decoded::kNeedMore) break;
      if (m.what == frame::Decoded::kBadHeader) {
        log::warning("closing connection from {}: {} (bytes: {})", net::peer_name(fd), m.error,
                     log::excerpt(pending));
        closing = true;
        break;
      }
      const std::size_t room = capacity_ - (start + frame::kHeaderSize);
      messages_.push_back({m.version, m.body.data(), m.body.size(), room});
      start += m.consumed;
      if (m.version == frame::kVersionOneShot) closing = true;
    }
    dispatcher_.handle(messages_.data(), messages_.size(), out_);
    if (m.what == frame::Decoded::kBadHeader) reply::error(out_, m.version, m.error);
    if (!out_.empty() && !send_replies(fd)) return;
    if (closing) return;
    std::memmove(buffer, buffer + start, used - start);
    used -= start;
    // Stopping: what was read is answered; a message begun is finished.
    if (*config_.stop && used == 0) return;
    wait_first = true;
  }
}

}  // namespace shmkv::connection
