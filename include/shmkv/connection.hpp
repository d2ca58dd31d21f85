// Connection: one worker's loop over one client connection (PROTOCOL.md
// section 2). It reads whole messages, answers each through the dispatcher,
// writes the replies of one read with one write, and decides when to close.
#pragma once

#include <signal.h>

#include <cstddef>

#include "shmkv/stats.hpp"
#include "shmkv/store.hpp"

namespace shmkv::connection {

struct Settings {
  std::size_t max_message = 0;  // largest body accepted
  stats::Counters* counters = nullptr;
  int idle_timeout_ms = -1;     // close a connection idle this long; -1: never
  // The signal mask to wait with (ppoll), so that a stop signal blocked the
  // rest of the time wakes the wait without a lost wake-up.
  const sigset_t* wait_mask = nullptr;
  // Set by the stop signal's handler: answer what has been read, then close.
  const volatile sig_atomic_t* stop = nullptr;
};

// serve answers requests on fd until the client closes, a version-1 request
// has been answered, the framing breaks, the connection idles out, or stop is
// set. It does not close fd.
void serve(int fd, store::Store& store, const Settings& settings);

}  // namespace shmkv::connection
