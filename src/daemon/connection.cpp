#include "daemon/connection.hpp"

#include <poll.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/blocking_read.hpp"
#include "daemon/idle_timer.hpp"
#include "protocol/frame.hpp"
#include "common/log.hpp"
#include "protocol/json.hpp"
#include "common/net.hpp"
#include "protocol/reply.hpp"

namespace shmkv::connection {
namespace {

using idle_timer::now_ns;
using idle_timer::set_timer;

// reply_limit is how many bytes of replies a connection may owe before the
// worker stops answering (and so reading) its requests until they are sent:
// a few of the largest replies, so that a client that pipelines requests
// and reads no replies costs a bounded amount of memory (shmkvd(8), Failure
// modes), and at least 8 MiB, so that small ones still go out in big writes.
std::size_t reply_limit(std::size_t max_message) {
  constexpr std::size_t kFloor = std::size_t(8) << 20;
  return std::max(4 * max_message, kFloor);
}

}  // namespace

Handler::Handler(store::Store& store, scoreboard::Scoreboard& board, const Config& config,
                 scoreboard::Slot* slot)
    : config_(config),
      capacity_(frame::kHeaderSize + config.max_message + json::kPadding),
      buffer_(new char[capacity_]),
      dispatcher_(store, board, {config.max_message, config.debug_commands, slot, reply_limit(config.max_message)}),
      idle_timer_(config.idle_timeout_ms) {}

Handler::~Handler() {
  if (request_timer_fd_ >= 0) close(request_timer_fd_);
}

// arm_request_timer starts the --request-timeout of the message whose first
// bytes the last read brought. Only a read that ends inside a message arms
// it, so a client whose requests arrive whole pays nothing for it; each
// byte received does not restart it (a client sending one byte at a time
// would otherwise hold its worker for good).
bool Handler::arm_request_timer() {
  if (request_timer_fd_ < 0) request_timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  request_deadline_ns_ = now_ns() + std::uint64_t(config_.request_timeout_ms) * 1'000'000;
  return request_timer_fd_ >= 0 && set_timer(request_timer_fd_, request_deadline_ns_, TFD_TIMER_ABSTIME);
}

// wait_readable waits for the rest of a message, at most the idle timeout
// and until its request timeout. A stop does not end it: a message already
// begun is the request in hand, to be read and answered (the parent kills a
// worker that takes longer than --shutdown-timeout).
Handler::Wait Handler::wait_readable(int fd) {
  const bool timed = config_.idle_timeout_ms > 0;
  if (timed && !idle_timer_.arm()) return Wait::kFailed;
  const std::uint64_t began = timed ? now_ns() : 0;
  // A timer not in use has fd -1, which poll ignores.
  const bool deadline = request_deadline_ns_ != 0;
  pollfd p[3] = {{fd, POLLIN, 0}, {idle_timer_.fd(), POLLIN, 0}, {request_timer_fd_, POLLIN, 0}};
  for (;;) {
    const int ready = ppoll(p, deadline ? 3 : timed ? 2 : 1, nullptr, config_.wait_mask);
    if (ready < 0) {
      if (errno != EINTR) return Wait::kFailed;
      continue;
    }
    if (p[0].revents) return Wait::kReadable;
    if (p[1].revents && idle_timer_.expired(began)) return Wait::kIdle;
    if (deadline && p[2].revents) {
      std::uint64_t expirations = 0;
      (void)!read(request_timer_fd_, &expirations, sizeof expirations);
      if (now_ns() >= request_deadline_ns_) return Wait::kRequestTimeout;
    }
  }
}

// send_replies writes out_ whole, waiting (at most the idle timeout) while the
// client's receive window is full. False when the connection is gone. With
// keep, out_ keeps its room for the next round of replies.
bool Handler::send_replies(int fd, bool keep) {
  if (Status s = net::send_waiting(fd, out_, config_.idle_timeout_ms); !s) {
    log::debug("{}: closing", s.message());
    return false;
  }
  // Replies to a pipelined batch of big values can take many megabytes: let
  // them go, rather than keep them for the worker's life.
  constexpr std::size_t kRepliesKept = std::size_t(1) << 20;
  if (out_.capacity() > kRepliesKept && !keep) std::string().swap(out_);
  else out_.clear();
  return true;
}

void Handler::serve(int fd) {
  char* const buffer = buffer_.get();
  const std::size_t usable = capacity_ - json::kPadding;
  std::size_t used = 0;
  out_.clear();
  idle_timer_.begin();
  request_deadline_ns_ = 0;
  const std::string peer = log::enabled(log::Level::kDebug) ? net::peer_name(fd) : std::string();
  log::debug("connection from {}", peer);

  // A new connection's first request is usually there already: read at
  // once. After a reply the client usually waits for it before it sends
  // more: wait before reading again, rather than spend a read on EAGAIN.
  // Between messages that wait is a blocking read (blocking_read.hpp: one
  // system call where ppoll() and read() were two), readied at the first
  // such wait, so that a connection of one request pays nothing for it;
  // inside a message, where the request timeout applies, it is ppoll().
  bool wait_first = false;
  std::optional<blocking_read::Scope> blocking;
  for (;;) {
    ssize_t n = 0;
    if (wait_first && used == 0) {
      if (!blocking && !blocking.emplace(fd, config_.idle_timeout_ms, config_.wait_mask).ok()) {
        log::error("{}", errno_text("readying a connection for blocking reads", errno));
        return;
      }
      n = static_cast<ssize_t>(blocking_read::read(fd, buffer, usable, true, config_.stop, peer));
      if (n == 0) return;
    } else if (wait_first) {
      switch (wait_readable(fd)) {
        case Wait::kReadable: break;
        case Wait::kIdle:
          log::debug("{}: idle, closing", peer);
          return;
        case Wait::kRequestTimeout: {
          // Framing that never completes is broken framing: one reply, a
          // log line, a close (shmkvd(8), Failure modes).
          const std::string error =
              fmt::format("request not complete within {} s", config_.request_timeout_ms / 1000);
          log::warning("closing connection from {}: {} ({} bytes: {})", net::peer_name(fd), error, used,
                       log::excerpt({buffer, used}));
          reply::error(out_, frame::truncated_version({buffer, used}), error);
          send_replies(fd);
          return;
        }
        case Wait::kFailed:
          log::error("{}", errno_text("waiting for input", errno));
          return;
      }
    }
    // MSG_DONTWAIT: the socket blocks once readied for blocking reads.
    if (n == 0) n = recv(fd, buffer + used, usable - used, MSG_DONTWAIT);
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
    // Replies owed past the dispatcher's reply limit are sent before the
    // rest is answered, and nothing more is read meanwhile: a client that
    // pipelines and does not read is slowed down (back-pressure), not
    // buffered for. send_replies waits for it at most the idle timeout.
    for (std::size_t done = 0;;) {
      done += dispatcher_.handle(messages_.data() + done, messages_.size() - done, out_);
      if (done == messages_.size()) break;
      // The next round fills out_ up to the limit and one batch of GETs
      // past it (at most the limit again): the room for both is made once
      // and kept until the last round, rather than grown by doubling and
      // given back every round, which left the heap twice as big.
      if (!send_replies(fd, true)) return;
      out_.reserve(2 * reply_limit(config_.max_message) + 4096);
    }
    if (m.what == frame::Decoded::kBadHeader) reply::error(out_, m.version, m.error);
    if (!out_.empty() && !send_replies(fd)) return;
    if (closing) return;
    std::memmove(buffer, buffer + start, used - start);
    used -= start;
    // A message left incomplete: its clock starts, unless it is the one
    // already timed (nothing was taken from the buffer's front).
    if (used == 0) request_deadline_ns_ = 0;
    else if (config_.request_timeout_ms > 0 && (start > 0 || request_deadline_ns_ == 0) && !arm_request_timer())
      log::error("{}", errno_text("arming the request timer", errno));
    // Stopping: what was read is answered; a message begun is finished.
    if (*config_.stop && used == 0) return;
    wait_first = true;
  }
}

}  // namespace shmkv::connection
