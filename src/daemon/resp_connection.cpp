#include "daemon/resp_connection.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "common/log.hpp"
#include "common/net.hpp"

namespace shmkv::resp_connection {
namespace {

constexpr std::size_t kInitialBuffer = 16 << 10;
// Buffers above these sizes are let go after their connection's command, so
// that one big command does not stay with the worker for good.
constexpr std::size_t kKept = std::size_t(1) << 20;

}  // namespace

// A command may hold up to 1,048,576 arguments of up to --max-message bytes
// each; what bounds it as a whole is this: twice the largest value, and room
// for a long MSET or DEL of small ones.
Handler::Handler(store::Store& store, scoreboard::Scoreboard& board, const connection::Config& config,
                 const resp::Session::Config& session, scoreboard::Slot* slot)
    : config_(config),
      board_(board),
      slot_(slot),
      limit_(2 * config.max_message + (std::size_t(64) << 20)),
      parser_(config.max_message),
      keyspace_(store, board, slot),
      session_(keyspace_, session, out_) {}

Handler::Wait Handler::wait_readable(int fd, bool mid_command) {
  const bool timed = config_.idle_timeout_ms > 0;
  timespec deadline{};
  if (timed) clock_gettime(CLOCK_MONOTONIC, &deadline);
  const std::int64_t timeout_ns = std::int64_t(config_.idle_timeout_ms) * 1'000'000;
  const std::int64_t began = std::int64_t(deadline.tv_sec) * 1'000'000'000 + deadline.tv_nsec;
  pollfd p{fd, POLLIN, 0};
  for (;;) {
    if (*config_.stop && !mid_command) return Wait::kStop;
    timespec left{};
    if (timed) {
      timespec now{};
      clock_gettime(CLOCK_MONOTONIC, &now);
      const std::int64_t remaining = timeout_ns - (std::int64_t(now.tv_sec) * 1'000'000'000 + now.tv_nsec - began);
      if (remaining <= 0) return Wait::kIdle;
      left.tv_sec = remaining / 1'000'000'000;
      left.tv_nsec = remaining % 1'000'000'000;
    }
    const int ready = ppoll(&p, 1, timed ? &left : nullptr, config_.wait_mask);
    if (ready < 0) {
      if (errno != EINTR) return Wait::kFailed;
      continue;
    }
    if (ready > 0) return Wait::kReadable;
  }
}

bool Handler::send_replies(int fd) {
  if (Status s = net::send_waiting(fd, out_, config_.idle_timeout_ms); !s) {
    log::debug("RESP: {}: closing", s.message());
    return false;
  }
  if (out_.capacity() > kKept) std::string().swap(out_);
  else out_.clear();
  return true;
}

bool Handler::room() {
  if (used_ < in_.size()) return true;
  if (in_.size() >= limit_) return false;
  in_.resize(std::min(limit_, std::max(kInitialBuffer, in_.size() * 2)));
  return true;
}

void Handler::serve(int fd) {
  if (in_.size() > kKept || in_.empty()) std::vector<char>(kInitialBuffer).swap(in_);
  used_ = 0;
  out_.clear();
  parser_.reset();
  session_.begin();
  const std::string peer = log::enabled(log::Level::kDebug) ? net::peer_name(fd) : std::string();
  log::debug("RESP connection from {}", peer);

  bool wait_first = false;  // a new connection's first command is usually there already
  for (;;) {
    if (wait_first) {
      switch (wait_readable(fd, used_ > 0)) {
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
    if (!room()) {
      log::warning("closing RESP connection from {}: a command over {} bytes", net::peer_name(fd), limit_);
      out_ += fmt::format("-ERR Protocol error: a command over {} bytes\r\n", limit_);
      send_replies(fd);
      return;
    }
    const ssize_t n = read(fd, in_.data() + used_, in_.size() - used_);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) {
        log::debug("{}", errno_text(peer + ": read", errno));
        return;
      }
      wait_first = true;
      continue;
    }
    if (n == 0) return;  // the client closed; a command begun is dropped, as Redis does
    used_ += static_cast<std::size_t>(n);

    // Answer every whole command read so far; send the replies together.
    std::size_t start = 0;
    bool closing = false;
    while (!closing) {
      const std::string_view pending(in_.data() + start, used_ - start);
      std::size_t consumed = 0;
      std::string error;
      const resp::Parsed p = parser_.parse(pending, &args_, &consumed, &error);
      if (p == resp::Parsed::kNeedMore) break;
      if (p == resp::Parsed::kError) {
        log::warning("closing RESP connection from {}: {} (bytes: {})", net::peer_name(fd), error,
                     log::excerpt(pending));
        session_.flush();  // the replies before the error, in order
        out_ += '-';
        out_ += error;
        out_ += "\r\n";
        closing = true;
        break;
      }
      start += consumed;
      if (args_.empty()) continue;
      (slot_ ? slot_->requests : board_.requests_total).fetch_add(1, std::memory_order_relaxed);
      closing = session_.execute(args_) == resp::Session::After::kClose;
      // A long pipeline's replies go out as they grow, not all at the end.
      if (out_.size() > kKept && !send_replies(fd)) return;
    }
    session_.flush();
    if (!out_.empty() && !send_replies(fd)) return;
    if (closing) return;
    std::memmove(in_.data(), in_.data() + start, used_ - start);
    used_ -= start;
    if (*config_.stop && used_ == 0) return;
    wait_first = true;
  }
}

}  // namespace shmkv::resp_connection
