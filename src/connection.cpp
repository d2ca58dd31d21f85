#include "shmkv/connection.hpp"

#include <poll.h>
#include <simdjson.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>

#include "shmkv/dispatch.hpp"
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

void serve(int fd, store::Store& store, const Settings& settings) {
  // The buffer holds one whole message of the largest size at least, plus the
  // padding simdjson reads past the end of a body.
  const std::size_t capacity = frame::kHeaderSize + settings.max_message + simdjson::SIMDJSON_PADDING;
  std::unique_ptr<char[]> buffer(new char[capacity]);
  const std::size_t usable = capacity - simdjson::SIMDJSON_PADDING;
  std::size_t used = 0;
  std::string out;
  dispatch::Dispatcher dispatcher(store, *settings.counters, settings.max_message);
  const std::string peer = log::enabled(log::Level::kDebug) ? net::peer_name(fd) : std::string();
  log::debug("connection from {}", peer);

  bool closing = false;
  while (!closing) {
    // Answer every whole message buffered so far; send the replies together.
    std::size_t start = 0;
    while (!closing) {
      const std::string_view pending(buffer.get() + start, used - start);
      frame::DecodeResult m = frame::decode(pending, settings.max_message);
      if (m.what == frame::Decoded::kNeedMore) break;
      if (m.what == frame::Decoded::kBadHeader) {
        log::warning("closing connection from {}: {} (bytes: {})", net::peer_name(fd), m.error,
                     excerpt(pending));
        reply::error(out, m.version, m.error);
        closing = true;
        break;
      }
      const std::size_t room = capacity - (start + frame::kHeaderSize);
      dispatcher.handle(m.version, m.body.data(), m.body.size(), room, out);
      start += m.consumed;
      if (m.version == frame::kVersionOneShot) closing = true;
    }
    if (!out.empty()) {
      if (Status s = net::send_all(fd, out.data(), out.size()); !s) {
        log::debug("{}: {}", peer, s.message());
        return;
      }
      out.clear();
    }
    if (closing) break;
    std::memmove(buffer.get(), buffer.get() + start, used - start);
    used -= start;

    switch (wait_readable(fd, settings, used > 0)) {
      case Wait::kReadable: break;
      case Wait::kStop: return;
      case Wait::kIdle:
        log::debug("{}: idle, closing", peer);
        return;
      case Wait::kFailed:
        log::error("poll: {}", std::strerror(errno));
        return;
    }
    const ssize_t n = read(fd, buffer.get() + used, usable - used);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      log::debug("{}: read: {}", peer, std::strerror(errno));
      return;
    }
    if (n == 0) {
      if (used > 0) {  // the client stopped inside a message
        reply::error(out, frame::truncated_version({buffer.get(), used}), "truncated message");
        net::send_all(fd, out.data(), out.size());
      }
      return;
    }
    used += static_cast<std::size_t>(n);
  }
}

}  // namespace shmkv::connection
