// Counters: the daemon's activity counts, in a small shared mapping that the
// parent creates before it forks, so that a worker answering STATS sees the
// counts of every process. Not in the store: the parent never touches that.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <ctime>

namespace shmkv::stats {

struct Counters {
  // Kept by the parent: +1 at fork, -1 at reap, so a worker that dies
  // abnormally is still counted out.
  std::atomic<std::uint64_t> connections_active{0};
  std::atomic<std::uint64_t> connections_total{0};
  // Kept by the workers: +1 per request answered, bad ones included.
  std::atomic<std::uint64_t> requests_total{0};
  // Constant after start-up.
  pid_t daemon_pid = 0;
  std::time_t started = 0;
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
              "counters shared between processes must be lock-free atomics");

// create maps a zeroed Counters shared with every process forked afterwards,
// with daemon_pid and started set; nullptr if mmap fails.
Counters* create();

}  // namespace shmkv::stats
