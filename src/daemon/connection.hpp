// Connection: a worker's loop over one client connection at a time
// (shmkv-protocol(7), Connections). It reads whole messages, answers each through the
// dispatcher, writes the replies of one read with one write (or, past the
// reply limit, in rounds, reading nothing meanwhile), and decides when to
// close. Its buffers live as long as the worker, across connections.
#pragma once

#include <signal.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "daemon/dispatch.hpp"
#include "daemon/blocking_read.hpp"
#include "daemon/scoreboard.hpp"
#include "store/store.hpp"

namespace shmkv::connection {

struct Config {
  std::size_t max_message = 0;  // largest body accepted
  int idle_timeout_ms = 0;      // close a connection idle this long; 0: never
  // A request must arrive whole within this long of its first byte; 0: no limit.
  int request_timeout_ms = 0;
  bool debug_commands = false;  // answer DEBUG
  // The signal mask inside waits (a worker's epoll_pwait, and its reads
  // once a connection is readied for blocking reads): the stop signals,
  // blocked the rest of the time, open.
  const sigset_t* wait_mask = nullptr;
  // Set by the stop signal's handler: answer what has been read, then close.
  const volatile sig_atomic_t* stop = nullptr;
  // Called before the worker sleeps on its client, in a read or a write
  // (Scoreboard::keep_leader); may be empty.
  std::function<void()> before_wait;
};

// reply_limit is how many bytes of replies a connection may owe before the
// worker stops answering (and so reading) its requests until they are sent:
// a few of the largest replies, so that a client that pipelines requests
// and reads no replies costs a bounded amount of memory (shmkvd(8), Greedy
// clients), and at least 8 MiB, so that small ones still go out in big writes.
inline std::size_t reply_limit(std::size_t max_message) {
  constexpr std::size_t kFloor = std::size_t(8) << 20;
  return std::max(4 * max_message, kFloor);
}

class Handler {
 public:
  // slot is the worker's scoreboard slot (null in tests).
  Handler(store::Store& store, scoreboard::Scoreboard& board, const Config& config, scoreboard::Slot* slot);

  Handler(const Handler&) = delete;
  Handler& operator=(const Handler&) = delete;

  // serve answers requests on fd, a non-blocking socket, until the client
  // closes, a version-1 request has been answered, the framing breaks, the
  // connection idles out, or stop is set. It does not close fd.
  void serve(int fd);

 private:
  bool send_replies(int fd, bool keep = false);

  const Config config_;
  const std::size_t capacity_;     // header + max message + simdjson's padding
  std::unique_ptr<char[]> buffer_;
  std::string out_;                // replies not yet written
  std::vector<dispatch::Message> messages_;  // the whole messages of one read
  dispatch::Dispatcher dispatcher_;
  // A client can have its connections closed for bad framing as fast as it
  // can open them: the log gets 10 lines per 10 s of these.
  log::Throttle closing_log_;
  // The deadline of the message a read left incomplete (--request-timeout);
  // none (the epoch) while no message is incomplete, or without the timeout.
  blocking_read::Clock::time_point deadline_{};
};

}  // namespace shmkv::connection
