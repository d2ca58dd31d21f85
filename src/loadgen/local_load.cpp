#include "loadgen/local_load.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fmt/format.h>
#include <memory>
#include <type_traits>
#include <vector>

#include "loadgen/workload.hpp"
#include "shmkv/local.hpp"

namespace shmkv::loadgen {
namespace {

std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::uint64_t(ts.tv_sec) * 1'000'000'000 + std::uint64_t(ts.tv_nsec);
}

std::uint64_t splitmix(std::uint64_t* state) {
  std::uint64_t z = (*state += 0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

// Report is what a reader sends the parent through its pipe, whole: the
// histogram is plain data, and both ends are this program.
struct Report {
  char open_error[512] = {};  // empty: the segment was opened
  char example[256] = {};     // the first failed GET's message
  std::uint64_t ok = 0, found = 0, failed = 0;
  double seconds = 0;
  histogram::Histogram latency;
};
static_assert(std::is_trivially_copyable_v<Report>);

void copy_text(char* to, std::size_t size, const std::string& text) {
  std::snprintf(to, size, "%s", text.c_str());
}

// read_all and write_all move a Report through a pipe.
bool write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w, n -= std::size_t(w);
  }
  return true;
}

bool read_all(int fd, char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r, n -= std::size_t(r);
  }
  return true;
}

// read_keys is one reader process's work, after it opened the segment and
// the parent said go (closed `go`).
void read_keys(const LocalConfig& config, int index, shmkv::local::Reader& reader, int go,
               const volatile std::sig_atomic_t* stop, Report* report) {
  char byte;
  while (read(go, &byte, 1) < 0 && errno == EINTR) {
  }
  const std::uint64_t share = config.requests == 0
                                  ? UINT64_MAX
                                  : config.requests / std::uint64_t(config.readers) +
                                        (std::uint64_t(index) < config.requests % std::uint64_t(config.readers));
  std::uint64_t state = config.seed * 0x100000001b3ull + std::uint64_t(index);
  std::uint64_t next_key = config.keyspace / std::uint64_t(config.readers) * std::uint64_t(index);
  std::string value;
  const std::uint64_t start = now_ns();
  const std::uint64_t end = config.requests == 0 ? start + std::uint64_t(config.seconds * 1e9) : UINT64_MAX;
  std::uint64_t prev = start;
  for (std::uint64_t i = 0; i < share; ++i) {
    std::uint64_t key;
    if (config.sequential) {
      key = next_key;
      if (++next_key == config.keyspace) next_key = 0;
    } else {
      key = splitmix(&state) % config.keyspace;
    }
    const workload::KeyText text = workload::key_text(key);
    const Status s = reader.get(text.view(), &value);
    const std::uint64_t now = now_ns();
    report->latency.record(now - prev);
    prev = now;
    if (s.is_ok()) {
      ++report->ok;
      ++report->found;
    } else if (s.is_not_found()) {
      ++report->ok;
    } else {
      if (report->failed++ == 0) copy_text(report->example, sizeof report->example, s.message());
    }
    if ((i & 255) == 255 && (now >= end || *stop)) break;
  }
  report->seconds = double(prev - start) / 1e9;
}

}  // namespace

Status run_local(const LocalConfig& config, const volatile std::sig_atomic_t* stop, Result* result,
                 std::uint64_t* found) {
  int go[2];
  if (pipe(go) < 0) return Status::io(errno_text("pipe", errno));
  struct Child {
    pid_t pid;
    int fd;
  };
  std::vector<Child> children;
  Status status;
  for (int i = 0; i < config.readers; ++i) {
    int fds[2];
    if (pipe(fds) < 0) {
      status = Status::io(errno_text("pipe", errno));
      break;
    }
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
      status = Status::io(errno_text("fork a reader process", errno));
      close(fds[0]);
      close(fds[1]);
      break;
    }
    if (pid == 0) {
      close(go[1]);
      close(fds[0]);
      // A child's own copy of what it reports; no exception leaves it.
      auto report = std::make_unique<Report>();
      try {
        std::unique_ptr<shmkv::local::Reader> reader;
        if (Status s = shmkv::local::Reader::open(config.name, &reader); !s)
          copy_text(report->open_error, sizeof report->open_error, s.message());
        else
          read_keys(config, i, *reader, go[0], stop, report.get());
      } catch (const std::exception& e) {
        copy_text(report->open_error, sizeof report->open_error, e.what());
      }
      _exit(write_all(fds[1], reinterpret_cast<const char*>(report.get()), sizeof(Report)) ? 0 : 1);
    }
    close(fds[1]);
    children.push_back({pid, fds[0]});
  }
  close(go[0]);
  close(go[1]);  // go: every reader starts now
  auto report = std::make_unique<Report>();
  *result = Result{};
  *found = 0;
  for (const Child& child : children) {
    const bool got = read_all(child.fd, reinterpret_cast<char*>(report.get()), sizeof(Report));
    close(child.fd);
    int wstatus = 0;
    while (waitpid(child.pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    if (!got) {
      // A segment cut short under the readers kills them with SIGBUS
      // (shmkv-protocol(7), LOCAL READERS): say which signal.
      const std::string how = WIFSIGNALED(wstatus) ? fmt::format(", killed by signal {} ({})", WTERMSIG(wstatus),
                                                                 strsignal(WTERMSIG(wstatus)))
                                                   : std::string();
      if (status) status = Status::io(fmt::format("reader process {} ended without its counts{}", child.pid, how));
      continue;
    }
    if (report->open_error[0]) {
      if (status) status = Status::io(report->open_error);
      continue;
    }
    result->ok += report->ok;
    result->error_replies += report->failed;
    *found += report->found;
    result->seconds = std::max(result->seconds, report->seconds);
    result->latency.merge(report->latency);
    if (report->example[0] && result->examples.size() < 5) result->examples.emplace_back(report->example);
  }
  return status;
}

}  // namespace shmkv::loadgen
