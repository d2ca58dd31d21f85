#include "shmkv/connection.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <simdjson.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>

#include "shmkv/frame.hpp"
#include "shmkv/log.hpp"
#include "shmkv/net.hpp"
#include "shmkv/reply.hpp"

namespace shmkv::connection {
namespace {

enum class Wait { kReadable, kStop, kIdle, kFailed };

// wait_readable waits for input. A stop ends the wait only between messages:
// a message already begun is the request in hand, to be read and answered
// (the parent kills a worker that takes longer than --shutdown-timeout).
Wait wait_readable(int fd, const Settings& settings, bool mid_message) {
  pollfd p{fd, POLLIN, 0};
  timespec timeout{settings.idle_timeout_ms / 1000, (settings.idle_timeout_ms % 1000) * 1000000L};
  const timespec* t = settings.idle_timeout_ms >= 0 ? &timeout : nullptr;
  for (;;) {
    if (*settings.stop && !mid_message) return Wait::kStop;
    const int ready = ppoll(&p, 1, t, settings.wait_mask);
    if (ready > 0) return Wait::kReadable;
    if (ready == 0) return Wait::kIdle;
    if (errno != EINTR) return Wait::kFailed;
  }
}

// excerpt shows the first bytes of bad input in a log line, escaped.
std::string excerpt(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes.substr(0, 32)) {
    if (c >= 0x20 && c < 0x7f && c != '\\') out.push_back(static_cast<char>(c));
    else out += fmt::format("\\x{:02x}", c);
  }
  return out;
}

}  // namespace

Handler::Handler(store::Store& store, scoreboard::Scoreboard& board, const Settings& settings,
                 scoreboard::Slot* slot)
    : settings_(settings),
      capacity_(frame::kHeaderSize + settings.max_message + simdjson::SIMDJSON_PADDING),
      buffer_(new char[capacity_]),
      dispatcher_(store, board, {settings.max_message, settings.debug_commands, slot}) {}

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
      log::debug("write: {}", std::strerror(errno));
      return false;
    }
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, settings_.idle_timeout_ms) <= 0) {
      log::debug("a client read no reply for {} ms: closing", settings_.idle_timeout_ms);
      return false;
    }
  }
  out_.clear();
  return true;
}

void Handler::serve(int fd) {
  char* const buffer = buffer_.get();
  const std::size_t usable = capacity_ - simdjson::SIMDJSON_PADDING;
  std::size_t used = 0;
  out_.clear();
  const std::string peer = log::enabled(log::Level::kDebug) ? net::peer_name(fd) : std::string();
  log::debug("connection from {}", peer);

  // A new connection's first request is usually there already: read at
  // once. After a reply the client usually waits for it before it sends
  // more: wait before reading again, rather than spend a read on EAGAIN.
  bool wait_first = false;
  for (;;) {
    if (wait_first) {
      switch (wait_readable(fd, settings_, used > 0)) {
        case Wait::kReadable: break;
        case Wait::kStop: return;
        case Wait::kIdle:
          log::debug("{}: idle, closing", peer);
          return;
        case Wait::kFailed:
          log::error("poll: {}", std::strerror(errno));
          return;
      }
    }
    const ssize_t n = read(fd, buffer + used, usable - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) {
        log::debug("{}: read: {}", peer, std::strerror(errno));
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
      m = frame::decode(pending, settings_.max_message);
      if (m.what == frame::Decoded::kNeedMore) break;
      if (m.what == frame::Decoded::kBadHeader) {
        log::warning("closing connection from {}: {} (bytes: {})", net::peer_name(fd), m.error,
                     excerpt(pending));
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
    if (*settings_.stop && used == 0) return;
    wait_first = true;
  }
}

}  // namespace shmkv::connection
