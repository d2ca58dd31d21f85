#include "daemon/parent.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <unordered_map>

#include "daemon/daemonize.hpp"
#include "common/log.hpp"
#include "daemon/recovery.hpp"
#include "daemon/worker.hpp"

namespace shmkv::parent {
namespace {

using scoreboard::State;

// Set by the handlers, acted on by the loop. Workers inherit the handlers and
// use g_stop as their own stop flag.
volatile sig_atomic_t g_stop = 0;
volatile sig_atomic_t g_child_exited = 0;

void on_stop(int) { g_stop = 1; }
void on_child(int) { g_child_exited = 1; }
// SIGUSR1 (a worker took the last idle slot) needs no flag: the loop counts
// idle workers afresh each time round, and the signal's job is to wake it.
void on_pool_short(int) {}

void set_handler(int sig, void (*handler)(int)) {
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, nullptr);
}

class Parent {
 public:
  Parent(const daemon_config::Config& config, std::vector<listeners::Listener>& listeners,
         std::unique_ptr<store::Store>& store, scoreboard::Scoreboard& board)
      : config_(config), listeners_(listeners), store_(store), board_(board) {}

  int run();

 private:
  bool accept_from(const listeners::Listener& listener);
  void rescue_stranded();
  // protocol is what conn speaks (its listener's).
  void spawn(int conn, listeners::Protocol protocol = listeners::Protocol::kJson);
  [[noreturn]] void run_worker(int slot, int conn, listeners::Protocol protocol);
  void reap();
  void recover();
  void stop_workers(std::chrono::milliseconds grace);
  void report_status();
  void warn_at_limit();
  void shut_down();

  const daemon_config::Config& config_;
  std::vector<listeners::Listener>& listeners_;
  std::unique_ptr<store::Store>& store_;  // replaced by recover()
  scoreboard::Scoreboard& board_;
  const pid_t parent_pid_ = getpid();
  sigset_t wait_mask_{};                    // the mask inside waits: our signals open
  std::unordered_map<pid_t, int> workers_;  // live workers' scoreboard slots
  // When the --max-children warning was last logged: at most once a minute,
  // as a busy server touches the limit with every connection.
  std::chrono::steady_clock::time_point limit_logged_{};
  bool limit_ever_logged_ = false;
  bool notify_ = false;      // systemd listens on NOTIFY_SOCKET
  bool store_crashed_ = false;  // a worker died in the store: recover()
  std::string crash_;           // which worker, and how
  std::string last_status_;  // the STATUS= last sent
};

int Parent::run() {
  // Signals stay blocked except inside ppoll (and the workers' waits), which
  // open them atomically: a signal cannot slip in between a check of the
  // flags and the wait.
  signal(SIGPIPE, SIG_IGN);  // a client gone mid-reply costs an EPIPE, not a process
  const int ours[] = {SIGCHLD, SIGTERM, SIGINT, SIGUSR1};
  sigset_t blocked;
  sigemptyset(&blocked);
  for (int sig : ours) sigaddset(&blocked, sig);
  sigprocmask(SIG_BLOCK, &blocked, &wait_mask_);
  for (int sig : ours) sigdelset(&wait_mask_, sig);
  set_handler(SIGTERM, on_stop);
  set_handler(SIGINT, on_stop);
  set_handler(SIGCHLD, on_child);
  set_handler(SIGUSR1, on_pool_short);

  notify_ = std::getenv("NOTIFY_SOCKET") != nullptr;
  for (const listeners::Listener& l : listeners_) log::info("listening on {}", l.name);
  sd_notify(0, "READY=1");
  daemonize::ready();
  report_status();

  std::vector<pollfd> fds;
  for (const listeners::Listener& l : listeners_) fds.push_back({l.fd, POLLIN, 0});
  // With systemd watching, wake once a second to keep STATUS= current.
  const timespec status_interval{1, 0};
  const auto max_children = static_cast<std::size_t>(config_.max_children);
  while (!g_stop) {
    std::size_t idle = board_.count(State::kIdle);
    // Keep one worker waiting in accept() while there is room for it.
    if (config_.spare_workers > 0 && idle == 0 && workers_.size() < max_children) {
      spawn(-1);
      idle = board_.count(State::kIdle);
    }
    const bool full = workers_.size() >= max_children;
    if (full) warn_at_limit();
    // The parent accepts only when no worker waits to: with --spare-workers
    // 0 always, else when a spare could not be had. At the limit the
    // listeners are left out, and the kernel's backlog holds newcomers.
    const bool accepting = !full && idle == 0;
    const int ready = ppoll(fds.data(), accepting ? fds.size() : 0, notify_ ? &status_interval : nullptr,
                            &wait_mask_);
    if (g_child_exited) {
      g_child_exited = 0;
      reap();
    }
    if (store_crashed_ && !g_stop) {
      recover();
      continue;
    }
    if (ready > 0 && accepting && !g_stop) {
      for (std::size_t i = 0; i < fds.size(); ++i)
        if (fds[i].revents & POLLIN) accept_from(listeners_[i]);
    }
    if (notify_) report_status();
  }
  shut_down();
  return 0;
}

// accept_from accepts one connection, if one is waiting, and forks its
// worker; false when none was waiting.
bool Parent::accept_from(const listeners::Listener& listener) {
  const int conn = accept4(listener.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (conn < 0) {
    const int err = errno;
    if (err != EAGAIN && err != EINTR && err != ECONNABORTED)
      log::error("{}", errno_text("accept on " + listener.name, err));
    return false;
  }
  spawn(conn, listener.protocol);
  close(conn);
  return true;
}

// rescue_stranded accepts, and forks workers for, connections that a killed
// idle worker left behind. EPOLLEXCLUSIVE wakes one waiter per connection; a
// worker killed in epoll_wait can be that waiter before it leaves the wait
// queue, and then the connection waits in the backlog while the other idle
// workers sleep on. The worker's death is reaped only after its epoll set is
// gone, so whatever is in the backlog now may be such a connection.
void Parent::rescue_stranded() {
  for (const listeners::Listener& l : listeners_) {
    while (workers_.size() < static_cast<std::size_t>(config_.max_children) && accept_from(l)) {
    }
  }
}

// spawn forks a worker for conn, or a spare that waits for one (conn < 0).
// Its slot is reserved before the fork, as busy or idle, so the counts are
// right at once; a failed fork releases it.
void Parent::spawn(int conn, listeners::Protocol protocol) {
  const int slot = board_.reserve(conn >= 0 ? State::kBusy : State::kIdle);
  if (slot < 0) return;  // cannot happen below --max-children, but be safe
  const pid_t pid = fork();
  if (pid == 0) run_worker(slot, conn, protocol);
  if (pid < 0) {
    log::error("{}", errno_text("fork", errno));
    board_.release(slot);
    return;
  }
  board_.slot(slot).pid.store(pid);
  workers_.emplace(pid, slot);
}

// run_worker is the child's side of a fork. It leaves with _exit, so that
// nothing of the parent's (atexit handlers, stdio buffers, the listeners'
// socket files) is run or removed twice.
void Parent::run_worker(int slot, int conn, listeners::Protocol protocol) {
  set_handler(SIGCHLD, SIG_DFL);
  set_handler(SIGUSR1, SIG_DFL);
  // If the parent dies, stop like at shutdown: answer the request in hand,
  // then exit, rather than serve on unsupervised (and hold the store's claim).
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent_pid_) g_stop = 1;  // it died before prctl
  worker::Config worker;
  worker.connection.max_message = config_.max_message;
  worker.connection.idle_timeout_ms = config_.idle_timeout_s * 1000;
  worker.connection.wait_mask = &wait_mask_;
  worker.connection.stop = &g_stop;
  worker.connection.debug_commands = config_.debug_commands;
  worker.resp.port = config_.resp_port;
  worker.resp.max_clients = config_.max_children;
  worker.listeners = &listeners_;
  worker.board = &board_;
  worker.slot = slot;
  worker.spare_workers = static_cast<std::size_t>(config_.spare_workers);
  worker.max_connections = config_.worker_max_connections;
  worker.parent_pid = parent_pid_;
  worker::run(conn, protocol, *store_, worker);
  _exit(0);
}

// reap collects every exited worker and frees its slot. It is the one place
// that decides what a worker's death means: outside the store, it costs only
// the worker's connection, if it had one, and one log line; in the store
// (its slot says so), the store's lock may be unusable and its map half
// changed, so the store is rebuilt (recover).
void Parent::reap() {
  int status = 0;
  pid_t pid;
  bool killed = false;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    auto it = workers_.find(pid);
    if (it == workers_.end()) continue;
    const State state = board_.slot(it->second).state.load();
    board_.release(it->second);
    workers_.erase(it);
    const bool normal = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (normal) continue;
    const std::string how = WIFSIGNALED(status)
                                ? fmt::format("killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)))
                                : fmt::format("exited with status {}", WEXITSTATUS(status));
    killed = killed || WIFSIGNALED(status);
    if (state == State::kInStore) {
      log::error("worker {} {} in the store", pid, how);
      crash_ = fmt::format("worker {} {} in the store", pid, how);
      store_crashed_ = true;
    } else {
      log::error("worker {} {}{}", pid, how, state == State::kBusy ? ", its connection lost" : " while idle");
    }
  }
  if (killed && !g_stop && !store_crashed_ && !listeners_.empty()) rescue_stranded();
}

// stop_workers stops every worker: SIGTERM (an idle one exits, a busy one
// answers the request in hand first), then SIGKILL for those still running
// after grace. New connections wait in the backlog meanwhile.
void Parent::stop_workers(std::chrono::milliseconds grace) {
  for (const auto& [pid, slot] : workers_) kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  reap();
  while (!workers_.empty()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      log::warning("killing {} workers still busy after {} ms", workers_.size(), grace.count());
      for (const auto& [pid, slot] : workers_) kill(pid, SIGKILL);
      while (!workers_.empty()) {
        // Block until a worker exits, leaving it for reap to collect and log.
        siginfo_t info{};
        if (waitid(P_ALL, 0, &info, WEXITED | WNOWAIT) < 0) break;
        reap();
      }
      return;
    }
    const timespec t{static_cast<time_t>(left.count() / 1000), static_cast<long>(left.count() % 1000) * 1000000L};
    g_child_exited = 0;
    ppoll(nullptr, 0, &t, &wait_mask_);
    reap();
  }
}

// recover rebuilds the store after a worker died in it: stop the workers,
// salvage the map into a fresh segment in a child process, swap it in, and
// resume. If salvage fails, the store is not served (every data request is
// answered with the reason) rather than served from a map that may be wrong.
void Parent::recover() {
  const auto start = std::chrono::steady_clock::now();
  board_.health.store(scoreboard::Health::kRecovering);
  log::error("recovering store {}: {}", config_.name, crash_);
  stop_workers(std::chrono::milliseconds(1000));
  store_crashed_ = false;  // deaths while stopping are covered by this rebuild
  std::size_t keys = 0;
  const Status s = recovery::rebuild(&store_, recovery::kSalvageTimeoutMs, &keys);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  if (!s) {
    board_.set_failed(s.message().c_str());
    log::error("recovery of store {} failed: {}; data requests get errors until shmkvd is restarted on a "
               "repaired or removed store", config_.name, s.message());
    return;
  }
  board_.recoveries.fetch_add(1);
  board_.last_recovery.store(std::time(nullptr));
  board_.health.store(scoreboard::Health::kOk);
  log::warning("store {} recovered after {}: {} keys copied into a fresh segment in {} ms", config_.name, crash_,
               keys, ms.count());
}

void Parent::warn_at_limit() {
  const auto now = std::chrono::steady_clock::now();
  if (limit_ever_logged_ && now - limit_logged_ < std::chrono::minutes(1)) return;
  log::warning("{} workers, the --max-children limit: new connections wait in the backlog", workers_.size());
  limit_logged_ = now;
  limit_ever_logged_ = true;
}

// report_status tells systemd the live counts, when they changed.
void Parent::report_status() {
  std::string status = fmt::format("STATUS={} connections, {} keys", board_.active(), store_->key_count());
  if (status == last_status_) return;
  sd_notify(0, status.c_str());
  last_status_ = std::move(status);
}

// shut_down stops accepting, passes the stop on to the workers (an idle one
// exits, a busy one answers the request in hand first), and kills those
// still running after --shutdown-timeout.
void Parent::shut_down() {
  sd_notify(0, "STOPPING=1");
  listeners::close_all(listeners_);
  log::info("stopping: {} workers to finish", workers_.size());
  stop_workers(std::chrono::seconds(config_.shutdown_timeout_s));
  log::info("stopped");
}

}  // namespace

int run(const daemon_config::Config& config, std::vector<listeners::Listener>& listeners,
        std::unique_ptr<store::Store>& store, scoreboard::Scoreboard& board) {
  Parent parent(config, listeners, store, board);
  return parent.run();
}

}  // namespace shmkv::parent
