#include "shmkv/parent.hpp"

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
#include <unordered_set>

#include "shmkv/connection.hpp"
#include "shmkv/daemonize.hpp"
#include "shmkv/log.hpp"
#include "shmkv/net.hpp"

namespace shmkv::parent {
namespace {

// Set by the handlers, acted on by the loop. Workers inherit the handlers and
// use g_stop as their own stop flag.
volatile sig_atomic_t g_stop = 0;
volatile sig_atomic_t g_child_exited = 0;

void on_stop(int) { g_stop = 1; }
void on_child(int) { g_child_exited = 1; }

void set_handler(int sig, void (*handler)(int)) {
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, nullptr);
}

class Parent {
 public:
  Parent(const daemon_config::Config& config, std::vector<listeners::Listener>& listeners, store::Store& store,
         stats::Counters& counters)
      : config_(config), listeners_(listeners), store_(store), counters_(counters) {}

  int run();

 private:
  void accept_from(const listeners::Listener& listener);
  [[noreturn]] void run_worker(int conn);
  void reap();
  void report_status();
  void warn_at_limit();
  void shut_down();

  const daemon_config::Config& config_;
  std::vector<listeners::Listener>& listeners_;
  store::Store& store_;
  stats::Counters& counters_;
  const pid_t parent_pid_ = getpid();
  sigset_t wait_mask_{};                 // the mask inside ppoll: stop and child signals open
  std::unordered_set<pid_t> workers_;    // live workers: added at fork, removed at reap
  // When the --max-children warning was last logged: at most once a minute,
  // as a busy server touches the limit with every connection.
  std::chrono::steady_clock::time_point limit_logged_{};
  bool limit_ever_logged_ = false;
  bool notify_ = false;                  // systemd listens on NOTIFY_SOCKET
  std::string last_status_;              // the STATUS= last sent
};

int Parent::run() {
  // Signals stay blocked except inside ppoll, which opens them atomically: a
  // signal cannot slip in between a check of the flags and the wait.
  signal(SIGPIPE, SIG_IGN);  // a client gone mid-reply costs an EPIPE, not a process
  sigset_t blocked;
  sigemptyset(&blocked);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT}) sigaddset(&blocked, sig);
  sigprocmask(SIG_BLOCK, &blocked, &wait_mask_);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT}) sigdelset(&wait_mask_, sig);
  set_handler(SIGTERM, on_stop);
  set_handler(SIGINT, on_stop);
  set_handler(SIGCHLD, on_child);

  notify_ = std::getenv("NOTIFY_SOCKET") != nullptr;
  for (const listeners::Listener& l : listeners_) log::info("listening on {}", l.name);
  sd_notify(0, "READY=1");
  daemonize::ready();
  report_status();

  std::vector<pollfd> fds;
  for (const listeners::Listener& l : listeners_) fds.push_back({l.fd, POLLIN, 0});
  // With systemd watching, wake once a second to keep STATUS= current.
  const timespec status_interval{1, 0};
  while (!g_stop) {
    const bool full = workers_.size() >= static_cast<std::size_t>(config_.max_children);
    if (full) warn_at_limit();
    // At the limit, leave the listeners out of the wait: the kernel's backlog
    // holds the newcomers until a worker exits.
    const int ready = ppoll(fds.data(), full ? 0 : fds.size(), notify_ ? &status_interval : nullptr, &wait_mask_);
    if (g_child_exited) {
      g_child_exited = 0;
      reap();
    }
    if (ready > 0 && !g_stop && !full) {
      for (std::size_t i = 0; i < fds.size(); ++i)
        if (fds[i].revents & POLLIN) accept_from(listeners_[i]);
    }
    if (notify_) report_status();
  }
  shut_down();
  return 0;
}

// accept_from accepts one connection, if one is waiting, and forks its worker.
void Parent::accept_from(const listeners::Listener& listener) {
  const int conn = accept4(listener.fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (conn < 0) {
    if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
      log::error("accept on {}: {}", listener.name, std::strerror(errno));
    return;
  }
  net::set_nodelay(conn);
  const pid_t pid = fork();
  if (pid == 0) run_worker(conn);
  if (pid < 0) {
    log::error("fork for a connection on {}: {}", listener.name, std::strerror(errno));
  } else {
    workers_.insert(pid);
    counters_.connections_active.fetch_add(1);
    counters_.connections_total.fetch_add(1);
  }
  close(conn);
}

// run_worker is the child's side of a fork: it serves one connection and
// leaves with _exit, so that nothing of the parent's (atexit handlers, stdio
// buffers, the listeners' socket files) is run or removed twice.
void Parent::run_worker(int conn) {
  listeners::close_fds(listeners_);
  set_handler(SIGCHLD, SIG_DFL);
  // If the parent dies, stop like at shutdown: answer the request in hand,
  // then exit, rather than serve on unsupervised (and hold the store's claim).
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent_pid_) g_stop = 1;  // it died before prctl
  connection::Settings settings;
  settings.max_message = config_.max_message;
  settings.counters = &counters_;
  settings.idle_timeout_ms = config_.idle_timeout_s > 0 ? config_.idle_timeout_s * 1000 : -1;
  settings.wait_mask = &wait_mask_;
  settings.stop = &g_stop;
  connection::serve(conn, store_, settings);
  close(conn);
  _exit(0);
}

// reap collects every exited worker. It is the one place that decides what a
// worker's death means; for now an abnormal one costs only its connection,
// and gets one log line.
void Parent::reap() {
  int status = 0;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    if (workers_.erase(pid)) counters_.connections_active.fetch_sub(1);
    if (WIFSIGNALED(status))
      log::error("worker {} killed by signal {} ({})", pid, WTERMSIG(status), strsignal(WTERMSIG(status)));
    else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
      log::error("worker {} exited with status {}", pid, WEXITSTATUS(status));
  }
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
  std::string status = fmt::format("STATUS={} connections, {} keys", workers_.size(), store_.key_count());
  if (status == last_status_) return;
  sd_notify(0, status.c_str());
  last_status_ = std::move(status);
}

// shut_down stops accepting, passes the stop on to the workers (each answers
// the request in hand, then exits), and kills those still running after
// --shutdown-timeout.
void Parent::shut_down() {
  sd_notify(0, "STOPPING=1");
  listeners::close_all(listeners_);
  log::info("stopping: {} workers to finish", workers_.size());
  for (pid_t pid : workers_) kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(config_.shutdown_timeout_s);
  reap();
  while (!workers_.empty()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      log::warning("killing {} workers still busy after --shutdown-timeout {} s", workers_.size(),
                   config_.shutdown_timeout_s);
      for (pid_t pid : workers_) kill(pid, SIGKILL);
      while (!workers_.empty()) {
        // Block until a worker exits, leaving it for reap to collect and log.
        siginfo_t info{};
        if (waitid(P_ALL, 0, &info, WEXITED | WNOWAIT) < 0) break;
        reap();
      }
      break;
    }
    const timespec t{static_cast<time_t>(left.count() / 1000), static_cast<long>(left.count() % 1000) * 1000000L};
    g_child_exited = 0;
    ppoll(nullptr, 0, &t, &wait_mask_);
    reap();
  }
  log::info("stopped");
}

}  // namespace

int run(const daemon_config::Config& config, std::vector<listeners::Listener>& listeners, store::Store& store,
        stats::Counters& counters) {
  Parent parent(config, listeners, store, counters);
  return parent.run();
}

}  // namespace shmkv::parent
