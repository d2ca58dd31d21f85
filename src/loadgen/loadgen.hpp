// The load generator behind shmkv-bench: one thread and one epoll set drive
// many non-blocking connections to one server, each carrying requests from the
// workload and checking every reply. It counts and times; what to print is
// src/loadgen/main.cpp's business.
#pragma once

#include <csignal>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "loadgen/histogram.hpp"
#include "common/net.hpp"
#include "shmkv/status.hpp"
#include "loadgen/workload.hpp"

namespace shmkv::loadgen {

enum class Mode {
  kConn,  // version 1: connect, one request, its reply, the server closes
  kKeep,  // version 2: persistent connections, up to `pipeline` requests in flight
};

struct Config {
  net::Address address;
  Mode mode = Mode::kKeep;
  int connections = 50;
  std::uint64_t requests = 100000;  // stop after this many; 0: run for `seconds`
  double seconds = 0;
  int pipeline = 1;  // keep mode only; conn mode sends one request per connection
  workload::Config workload;
  int timeout_ms = 5000;  // a connection that makes no progress this long is an error
  bool stop_on_error = false;  // no new requests after the first error (loading a store)
};

struct Result {
  std::uint64_t ok = 0;                 // replies that answered their request
  std::uint64_t error_replies = 0;      // {"status": "ERROR"} replies
  std::uint64_t wrong_replies = 0;      // replies that did not answer their request
  std::uint64_t connection_errors = 0;  // failed connects, resets, unexpected closes, timeouts
  std::uint64_t unanswered = 0;         // requests lost to connection errors
  double seconds = 0;                   // from the first request to the last reply
  histogram::Histogram latency;         // nanoseconds, of the ok requests
  std::vector<std::string> examples;    // the first few distinct error messages

  std::uint64_t answered() const { return ok + error_replies + wrong_replies; }
  std::uint64_t errors() const { return error_replies + wrong_replies + connection_errors; }
};

// Progress is called about four times a second during a run, with the counts
// so far and the seconds since the start.
using Progress = std::function<void(const Result& so_far, double seconds)>;

// run connects once to check that the server is there, then sends the load,
// and fills *result. Everything that goes wrong during the run is counted in
// *result; the Status fails only when the run could not start, e.g. when that
// first connection fails. Setting *stop (from a signal handler) ends the run
// early: no new requests, and those in flight are awaited.
Status run(const Config& config, const volatile std::sig_atomic_t* stop, const Progress& progress,
           Result* result);

}  // namespace shmkv::loadgen
