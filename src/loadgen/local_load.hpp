// shmkv-bench --local: GETs straight from a segment by reader processes on
// this host (shmkv/local.hpp), each timed; what to print is main.cpp's
// business, as for the networked load (loadgen.hpp).
#pragma once

#include <csignal>
#include <cstdint>
#include <string>

#include "loadgen/loadgen.hpp"
#include "shmkv/status.hpp"

namespace shmkv::loadgen {

struct LocalConfig {
  std::string name;                 // the segment: shmkvd --name
  int readers = 1;                  // reader processes, forked
  std::uint64_t requests = 100000;  // GETs in all, shared among the readers; 0: run for `seconds`
  double seconds = 0;
  std::uint64_t keyspace = 100000;  // keys key:000000000000 to keyspace-1
  bool sequential = false;          // each reader walks the keys in order from its own start
  std::uint64_t seed = 1;
};

// run_local forks the readers, each of which opens the segment before the
// common start and then GETs keys; the time between two GETs' returns is a
// GET's latency (the loop's own work, some nanoseconds, included). In
// *result, ok counts the GETs answered (found or not), error_replies the ones
// that failed (busy, a damaged segment), and *found the GETs that found their
// key. The Status fails when a reader could not open the segment, with its
// message. Setting *stop ends the run early.
Status run_local(const LocalConfig& config, const volatile std::sig_atomic_t* stop, Result* result,
                 std::uint64_t* found);

}  // namespace shmkv::loadgen
