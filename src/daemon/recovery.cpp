#include "daemon/recovery.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fmt/format.h>
#include <thread>

#include "common/log.hpp"

namespace shmkv::recovery {
namespace {

// A child killed by one of these signals crashed on what it read (a damaged
// map); any other signal came from outside: the OOM killer, an operator.
bool crash_signal(int sig) {
  return sig == SIGSEGV || sig == SIGBUS || sig == SIGABRT || sig == SIGILL || sig == SIGFPE;
}

// in_child runs job in a forked child named name, which reports through its
// exit code (and a Value on a pipe); the parent waits at most timeout_ms,
// then kills it. The child inherits the parent's mapping of the store.
template <typename Value, typename Job>
Status in_child(const char* what, const char* name, int timeout_ms, Job job, int* exit_code, Value* value) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) return Status::io(errno_text("pipe", errno));
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return Status::io(errno_text(std::string("fork for ") + what, errno));
  }
  if (pid == 0) {
    close(fds[0]);
    signal(SIGTERM, SIG_DFL);
    prctl(PR_SET_NAME, name);  // so that ps, top and an operator can tell it from a worker
    Value out{};
    const int code = job(&out);
    (void)!write(fds[1], &out, sizeof out);
    _exit(code);
  }
  close(fds[1]);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int status = 0;
  for (;;) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) {
      close(fds[0]);
      return Status::io(errno_text(std::string("wait for ") + what, errno));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      close(fds[0]);
      return Status::timeout(fmt::format("{} took longer than {} ms and was killed", what, timeout_ms));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  *value = Value{};
  (void)!read(fds[0], value, sizeof *value);
  close(fds[0]);
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const std::string how = fmt::format("{} was killed by signal {} ({})", what, sig, strsignal(sig));
    return crash_signal(sig) ? Status::corrupt(how) : Status::io(how);
  }
  *exit_code = WEXITSTATUS(status);
  return Status::ok();
}

enum Code { kOk = 0, kCorrupt = 2, kBusy = 3, kFailed = 4 };

}  // namespace

Status check(store::Store& store, int timeout_ms) {
  int code = kFailed;
  std::size_t ignored = 0;
  auto job = [&](std::size_t*) {
    const Status s = store.check_lock(timeout_ms);
    if (!s) log::error("{}", s.message());
    return s.is_ok() ? kOk : s.code() == Status::Code::kBusy ? kBusy : kCorrupt;
  };
  if (Status s = in_child("the store's lock check", "shmkvd-check", timeout_ms + 2000, job, &code, &ignored); !s)
    return s;
  if (code == kOk) return Status::ok();
  if (code == kBusy)
    return Status::busy(fmt::format("store {}: its lock stayed held for {} ms", store.name(), timeout_ms));
  return Status::corrupt(fmt::format("store {}: a process died holding its lock", store.name()));
}

Status rebuild(std::unique_ptr<store::Store>* store, const Options& options, Rebuilt* rebuilt) {
  const std::string name = (*store)->name();
  const std::string scratch = name + ".salvage";
  int code = kFailed;
  auto job = [&](Rebuilt* made) {
    if (options.debug_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(options.debug_delay_ms));
    const Status s = (*store)->salvage_into(scratch, &made->keys, &made->bytes);
    if (!s) log::error("salvage of store {}: {}", name, s.message());
    return s.is_ok() ? kOk : s.code() == Status::Code::kCorrupt ? kCorrupt : kFailed;
  };
  Status s = in_child("the salvage process", "shmkvd-salvage", options.timeout_ms, job, &code, rebuilt);
  if (s && code == kCorrupt) s = Status::corrupt(fmt::format("salvage of store {} found it damaged", name));
  if (s && code != kOk)
    s = Status::io(fmt::format("salvage of store {} could not make a fresh segment (see the log)", name));
  if (!s) {
    store::Store::remove(scratch);
    return s;
  }
  if (Status r = store::Store::replace(scratch, name); !r) {
    store::Store::remove(scratch);
    return r;
  }
  // Local readers that map the old segment open the name again.
  (*store)->retire();
  std::unique_ptr<store::Store> fresh;
  if (Status o = store::Store::open(name, 0, &fresh, (*store)->access()); !o) return o;
  if (Status c = fresh->claim(); !c) return c;
  *store = std::move(fresh);  // the old mapping goes, with the old segment
  return Status::ok();
}

bool retryable(const Status& failure) { return !failure.is_ok() && failure.code() != Status::Code::kCorrupt; }

}  // namespace shmkv::recovery
