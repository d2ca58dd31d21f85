#include "daemon/resp_connection.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.hpp"
#include "common/net.hpp"
#include "daemon/blocking_read.hpp"

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

bool Handler::send_replies(int fd) {
  if (Status s = net::send_waiting(fd, out_, config_.idle_timeout_ms, config_.before_wait); !s) {
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
  if (out_.capacity() > kKept) std::string().swap(out_);
  else out_.clear();
  parser_.reset();
  session_.begin([this, fd] { return send_replies(fd); });
  const std::string peer = log::enabled(log::Level::kDebug) ? net::peer_name(fd) : std::string();
  log::debug("RESP connection from {}", peer);

  // Reads block (blocking_read.hpp): under load a worker waits for each
  // command, and a blocking recv() is one system call where ppoll() and
  // read() were two (redis-benchmark -c 50: 2.1 system calls per request
  // instead of 3.1, and 13.9 µs of worker CPU instead of 15.8).
  blocking_read::Reader reader(fd, config_.idle_timeout_ms, config_.wait_mask, config_.stop);
  if (!reader.ok()) {
    log::error("{}", errno_text("readying a RESP connection", errno));
    return;
  }
  // A command must arrive whole within --request-timeout of its first
  // byte, as a JSON request must (shmkvd(8), Slow clients): the deadline of
  // the command begun, if any.
  blocking_read::Clock::time_point deadline{};
  bool first = true;
  for (;;) {
    if (!room()) {
      closing_log_.warning("closing RESP connection from {}: a command over {} bytes", net::peer_name(fd), limit_);
      out_ += fmt::format("-ERR Protocol error: a command over {} bytes\r\n", limit_);
      send_replies(fd);
      return;
    }
    // A new connection's first command is often there already: a read that
    // cannot block looks first, so that a worker sleeps (and wakes another
    // to wait for connections: acceptor.hpp) only when it must.
    std::size_t n = 0;
    if (first) {
      first = false;
      const ssize_t got = recv(fd, in_.data(), in_.size(), MSG_DONTWAIT);
      if (got == 0) return;
      if (got > 0) n = static_cast<std::size_t>(got);
    }
    if (n == 0) {
      if (config_.before_wait) config_.before_wait();
      n = reader.read(in_.data() + used_, in_.size() - used_, used_ == 0, peer, deadline);
    }
    if (n == 0) {
      if (reader.end() == blocking_read::End::kLate) {
        const std::string error = fmt::format("command not complete within {} s", config_.request_timeout_ms / 1000);
        closing_log_.warning("closing RESP connection from {}: {} ({} bytes: {})", net::peer_name(fd), error, used_,
                     log::excerpt({in_.data(), used_}));
        out_ += fmt::format("-ERR {}\r\n", error);
        send_replies(fd);
      }
      return;  // otherwise a command begun is dropped, as Redis does
    }
    used_ += n;

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
        closing_log_.warning("closing RESP connection from {}: {} (bytes: {})", net::peer_name(fd), error,
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
      if (session_.lost()) return;
      // A long pipeline's replies go out as they grow, not all at the end.
      if (out_.size() > kKept && !send_replies(fd)) return;
    }
    session_.flush();
    if (session_.lost() || (!out_.empty() && !send_replies(fd))) return;
    if (closing) return;
    std::memmove(in_.data(), in_.data() + start, used_ - start);
    used_ -= start;
    // A command left incomplete: its clock starts, unless it is the one
    // already timed (nothing was taken from the buffer's front).
    if (used_ == 0 || config_.request_timeout_ms == 0) deadline = {};
    else if (start > 0 || deadline == blocking_read::Clock::time_point{})
      deadline = blocking_read::Clock::now() + std::chrono::milliseconds(config_.request_timeout_ms);
    if (*config_.stop && used_ == 0) return;
  }
}

}  // namespace shmkv::resp_connection
