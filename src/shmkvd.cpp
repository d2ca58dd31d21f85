// shmkvd: the shmkv daemon.
//
// Process model. The parent process opens (or creates) the shared-memory store,
// binds the listening socket, and then only accepts, forks and reaps: for each
// accepted connection it forks one worker, which serves that connection alone
// (connection.cpp) and exits with _exit(). The parent never reads or writes the
// store after start-up, so a worker that crashes or hangs cannot take the
// accept loop with it. Workers see each other's writes because the dictionary
// lives in the shared segment, under the segment's interprocess mutex.
//
// Signals. Handlers only set flags. SIGCHLD, SIGTERM and SIGINT stay blocked
// except inside ppoll(), which unblocks them atomically, so no signal can
// arrive between a check of a flag and the wait (no lost wake-up).
//
// Shutdown. On SIGTERM or SIGINT the parent closes the listening socket and
// passes SIGTERM on to every worker; a worker answers the requests it has
// already read and exits. Workers still running after kShutdownGrace are
// killed. The parent exits 0; the store, and its data, stay for a restart.
//
// Crash policy, for now: a worker's abnormal death is logged with its signal
// or exit code and costs only its connection.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <unordered_set>

#include "shmkv/connection.hpp"
#include "shmkv/daemon_config.hpp"
#include "shmkv/log.hpp"
#include "shmkv/net.hpp"
#include "shmkv/stats.hpp"
#include "shmkv/store.hpp"
#include "shmkv/version.hpp"

namespace {

using namespace shmkv;

constexpr auto kShutdownGrace = std::chrono::seconds(10);

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

// The pids of live workers: added by accept_one, removed by reap_children.
std::unordered_set<pid_t> g_workers;
// Shared with the workers, which report them in STATS; set up before any fork.
stats::Counters* g_counters = nullptr;

// reap_children collects every exited worker and logs abnormal deaths: one
// line per death, the only place that decides what a death means.
void reap_children() {
  int status = 0;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    if (g_workers.erase(pid)) g_counters->connections_active.fetch_sub(1);
    if (WIFSIGNALED(status))
      log::error("worker {} killed by signal {} ({})", pid, WTERMSIG(status), strsignal(WTERMSIG(status)));
    else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
      log::error("worker {} exited with status {}", pid, WEXITSTATUS(status));
  }
}

// run_worker is the child's side of a fork: it serves one connection and
// leaves with _exit, so that nothing of the parent's (atexit handlers, stdio
// buffers) runs twice.
[[noreturn]] void run_worker(int listen_fd, int conn_fd, store::Store& store,
                             const daemon_config::Config& config, const sigset_t& wait_mask) {
  close(listen_fd);
  set_handler(SIGCHLD, SIG_DFL);
  g_stop = 0;  // the parent's flag was not set when it forked, but be plain about it
  connection::Settings settings;
  settings.max_message = config.max_message;
  settings.counters = g_counters;
  settings.idle_timeout_ms = config.idle_timeout_s > 0 ? config.idle_timeout_s * 1000 : -1;
  settings.wait_mask = &wait_mask;
  settings.stop = &g_stop;
  connection::serve(conn_fd, store, settings);
  close(conn_fd);
  _exit(0);
}

// accept_one accepts one connection, if one is waiting, and forks its worker.
void accept_one(int listen_fd, store::Store& store, const daemon_config::Config& config,
                const sigset_t& wait_mask) {
  const int conn = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (conn < 0) {
    if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) log::error("accept: {}", std::strerror(errno));
    return;
  }
  net::set_nodelay(conn);
  const pid_t pid = fork();
  if (pid == 0) run_worker(listen_fd, conn, store, config, wait_mask);
  if (pid < 0) {
    log::error("fork for {}: {}", net::peer_name(conn), std::strerror(errno));
  } else {
    g_workers.insert(pid);
    g_counters->connections_active.fetch_add(1);
    g_counters->connections_total.fetch_add(1);
  }
  close(conn);
}

// shut_down passes the stop on to the workers and waits for them, killing
// those still running after the grace period.
void shut_down(const sigset_t& wait_mask) {
  for (pid_t pid : g_workers) kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + kShutdownGrace;
  reap_children();
  while (!g_workers.empty()) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) {
      log::warning("killing {} workers still running after {} s", g_workers.size(), kShutdownGrace.count());
      for (pid_t pid : g_workers) kill(pid, SIGKILL);
      while (!g_workers.empty() && waitpid(-1, nullptr, 0) > 0) reap_children();
      break;
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(left).count();
    timespec t{static_cast<time_t>(ms / 1000), static_cast<long>(ms % 1000) * 1000000L};
    g_child_exited = 0;
    ppoll(nullptr, 0, &t, &wait_mask);
    reap_children();
  }
}

int serve(const daemon_config::Config& config) {
  log::set_level(config.log_level);
  std::unique_ptr<store::Store> store;
  if (Status s = store::Store::open(config.name, config.memory, &store); !s) {
    log::error("{}", s.message());
    return 1;
  }
  g_counters = stats::create();
  if (!g_counters) {
    log::error("{}", errno_text("mmap of the counters", errno));
    return 1;
  }
  int listen_fd = -1;
  if (Status s = net::listen_tcp(config.bind, config.port, config.backlog, &listen_fd); !s) {
    log::error("{}", s.message());
    return 1;
  }
  fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);

  // A client that goes away mid-reply must cost an EPIPE, not a process.
  signal(SIGPIPE, SIG_IGN);
  sigset_t blocked, wait_mask;
  sigemptyset(&blocked);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT}) sigaddset(&blocked, sig);
  sigprocmask(SIG_BLOCK, &blocked, &wait_mask);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT}) sigdelset(&wait_mask, sig);
  set_handler(SIGTERM, on_stop);
  set_handler(SIGINT, on_stop);
  set_handler(SIGCHLD, on_child);

  const store::Counts counts = store->counts();
  log::info("shmkvd {} listening on {}, store {} {} ({} keys, {} bytes)", kVersion,
            net::format_address(config.bind, config.port), config.name,
            store->created() ? "created" : "attached", counts.keys, counts.store_bytes);
  if (!store->created() && counts.store_bytes != config.memory)
    log::info("store {} keeps its size of {} bytes; --memory applies to a new store", config.name,
              counts.store_bytes);

  while (!g_stop) {
    pollfd p{listen_fd, POLLIN, 0};
    const int ready = ppoll(&p, 1, nullptr, &wait_mask);
    if (g_child_exited) {
      g_child_exited = 0;
      reap_children();
    }
    if (ready > 0 && !g_stop) accept_one(listen_fd, *store, config, wait_mask);
  }
  close(listen_fd);
  log::info("stopping: {} workers to finish", g_workers.size());
  shut_down(wait_mask);
  log::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  daemon_config::Config config;
  daemon_config::Action action;
  if (Status s = daemon_config::parse(argc, argv, &config, &action); !s) {
    std::fprintf(stderr, "shmkvd: %s\nTry 'shmkvd --help'.\n", s.message().c_str());
    return 2;
  }
  if (action == daemon_config::Action::kHelp) {
    std::fputs(daemon_config::usage().c_str(), stdout);
    return 0;
  }
  if (action == daemon_config::Action::kVersion) {
    std::printf("shmkvd %s\n", kVersion);
    return 0;
  }
  return serve(config);
}
