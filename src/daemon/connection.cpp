#include "daemon/connection.hpp"

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
#include "protocol/frame.hpp"
#include "common/log.hpp"
#include "protocol/json.hpp"
#include "common/net.hpp"
#include "protocol/reply.hpp"

namespace shmkv::connection {
Handler::Handler(store::Store& store, scoreboard::Scoreboard& board, const Config& config,
                 scoreboard::Slot* slot)
    : config_(config),
      capacity_(frame::kHeaderSize + config.max_message + json::kPadding),
      buffer_(new char[capacity_]),
      dispatcher_(store, board, {config.max_message, config.debug_commands, slot, reply_limit(config.max_message)}) {}

// send_replies writes out_ whole, waiting (at most the idle timeout) while the
// client's receive window is full. False when the connection is gone. With
// keep, out_ keeps its room for the next round of replies.
bool Handler::send_replies(int fd, bool keep) {
  if (Status s = net::send_waiting(fd, out_, config_.idle_timeout_ms, config_.before_wait); !s) {
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
  deadline_ = {};
  dispatcher_.set_drain([this, fd] { return send_replies(fd, true); });
  const std::string peer = log::enabled(log::Level::kDebug) ? net::peer_name(fd) : std::string();
  log::debug("connection from {}", peer);

  // A new connection's first request is usually there already: read at
  // once. After a reply the client usually waits for it before it sends
  // more: wait before reading again, rather than spend a read on EAGAIN.
  // The wait is a blocking read (blocking_read.hpp: one system call where
  // ppoll() and read() were two), readied at the first wait, so that a
  // connection whose one request arrives whole pays nothing for it.
  bool wait_first = false;
  std::optional<blocking_read::Reader> reader;
  for (;;) {
    ssize_t n;
    if (wait_first) {
      if (!reader && !reader.emplace(fd, config_.idle_timeout_ms, config_.wait_mask, config_.stop).ok()) {
        log::error("{}", errno_text("readying a connection for blocking reads", errno));
        return;
      }
      if (config_.before_wait) config_.before_wait();
      n = static_cast<ssize_t>(reader->read(buffer + used, usable - used, used == 0, peer, deadline_));
      if (n == 0 && reader->end() == blocking_read::End::kLate) {
        // Framing that never completes is broken framing: one reply, a
        // log line, a close (shmkvd(8), Failure modes).
        const std::string error = fmt::format("request not complete within {} s", config_.request_timeout_ms / 1000);
        closing_log_.warning("closing connection from {}: {} ({} bytes: {})", net::peer_name(fd), error, used,
                     log::excerpt({buffer, used}));
        reply::error(out_, frame::truncated_version({buffer, used}), error);
        send_replies(fd);
        return;
      }
      if (n == 0 && reader->end() != blocking_read::End::kClosed) return;
    } else {
      // MSG_DONTWAIT: the socket blocks once readied for blocking reads.
      n = recv(fd, buffer + used, usable - used, MSG_DONTWAIT);
    }
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
        closing_log_.warning("closing connection from {}: {} (bytes: {})", net::peer_name(fd), m.error,
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
      if (dispatcher_.lost()) return;
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
    // already timed (nothing was taken from the buffer's front). Only a
    // read that ends inside a message starts it, so a client whose requests
    // arrive whole pays nothing for it; each byte received does not restart
    // it (a client sending one byte at a time would otherwise hold its
    // worker for good).
    if (used == 0 || config_.request_timeout_ms == 0) deadline_ = {};
    else if (start > 0 || deadline_ == blocking_read::Clock::time_point{})
      deadline_ = blocking_read::Clock::now() + std::chrono::milliseconds(config_.request_timeout_ms);
    // Stopping: what was read is answered; a message begun is finished.
    if (*config_.stop && used == 0) return;
    wait_first = true;
  }
}

}  // namespace shmkv::connection
