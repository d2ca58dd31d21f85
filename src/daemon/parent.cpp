#include "daemon/parent.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <unordered_map>

#include "common/log.hpp"
#include "daemon/acceptor.hpp"
#include "daemon/blocking_read.hpp"
#include "daemon/daemonize.hpp"
#include "daemon/recovery.hpp"
#include "daemon/snapshotter.hpp"
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
  void worker_stopped(pid_t pid);
  void snapshot_child_stopped(pid_t pid);
  void recover();
  void salvage();
  void kill_lock_holders();
  const timespec* wake_after(timespec* t) const;
  void stop_workers(std::chrono::milliseconds grace);
  void report_status();
  void warn_at_limit();
  void shut_down();
  // Snapshots: a child forked on the interval and at shutdown writes them.
  void snapshot_tick();
  bool start_snapshot();
  bool snapshot_reaped(pid_t pid, int status);
  void final_snapshot();

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
  bool batch_scheduling_ = false;  // --worker-scheduling batch, and it can be done
  bool store_crashed_ = false;  // a worker died in the store: recover()
  bool stopping_workers_ = false;  // in stop_workers: reap forks no new ones
  std::string crash_;           // which worker, and how
  // A recovery whose salvage failed in a way that may pass (the salvage
  // process killed, say) tries again at salvage_retry_, the wait doubling
  // from kFirstRetry to kLastRetry.
  static constexpr std::chrono::milliseconds kFirstRetry{100}, kLastRetry{5000};
  bool salvage_pending_ = false;
  int salvage_attempts_ = 0;
  std::chrono::milliseconds salvage_wait_ = kFirstRetry;
  std::chrono::steady_clock::time_point salvage_retry_{};
  std::chrono::steady_clock::time_point recovery_start_{};
  std::string last_status_;  // the STATUS= last sent
  pid_t snapshot_pid_ = 0;   // the snapshot child running, if any
  int snapshot_slot_ = -1;   // its scoreboard slot
  std::chrono::steady_clock::time_point next_snapshot_{};  // when the interval next looks
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
  batch_scheduling_ = config_.batch_scheduling && worker::batch_scheduling_allowed();
  for (const listeners::Listener& l : listeners_) log::info("listening on {}", l.name);
  sd_notify(0, "READY=1");
  daemonize::ready();
  report_status();

  std::vector<pollfd> fds;
  for (const listeners::Listener& l : listeners_) fds.push_back({l.fd, POLLIN, 0});
  // The first interval snapshot is due one interval after start (wake_after).
  next_snapshot_ = std::chrono::steady_clock::now() + std::chrono::seconds(config_.snapshot_interval_s);
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
    timespec wake{};
    const int ready = ppoll(fds.data(), accepting ? fds.size() : 0, wake_after(&wake), &wait_mask_);
    if (g_child_exited) {
      g_child_exited = 0;
      reap();
    }
    if (store_crashed_ && !g_stop) {
      recover();
      continue;
    }
    if (salvage_pending_ && !g_stop && std::chrono::steady_clock::now() >= salvage_retry_) {
      salvage();
      continue;
    }
    kill_lock_holders();
    snapshot_tick();
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
  blocking_read::install_stop_handler(&g_stop);
  worker::Config worker;
  worker.connection.max_message = config_.max_message;
  worker.connection.idle_timeout_ms = config_.idle_timeout_s * 1000;
  worker.connection.request_timeout_ms = config_.request_timeout_s * 1000;
  worker.connection.wait_mask = &wait_mask_;
  worker.connection.stop = &g_stop;
  worker.connection.debug_commands = config_.debug_commands;
  worker.resp.port = config_.resp_port;
  worker.resp.max_clients = config_.max_children;
  worker.resp.snapshot_interval_s = config_.snapshot_interval_s;
  worker.resp.max_value = config_.max_message;
  worker.resp.reply_limit = connection::reply_limit(config_.max_message);
  worker.listeners = &listeners_;
  worker.board = &board_;
  worker.slot = slot;
  worker.spare_workers = static_cast<std::size_t>(config_.spare_workers);
  worker.max_connections = config_.worker_max_connections;
  worker.batch_scheduling = batch_scheduling_;
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
  while ((pid = waitpid(-1, &status, WNOHANG | WUNTRACED)) > 0) {
    if (WIFSTOPPED(status)) {
      worker_stopped(pid);
      continue;
    }
    auto it = workers_.find(pid);
    if (it == workers_.end()) {
      snapshot_reaped(pid, status);
      continue;
    }
    const State state = board_.slot(it->second).state.load();
    acceptor::worker_died(board_, it->second);
    board_.release(it->second);
    workers_.erase(it);
    const bool normal = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (normal) continue;
    const std::string how = WIFSIGNALED(status)
                                ? fmt::format("killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)))
                                : fmt::format("exited with status {}", WEXITSTATUS(status));
    killed = killed || WIFSIGNALED(status);
    const bool saving = snapshotter::process_died(board_, pid, fmt::format("worker {} {}", pid, how));
    if (saving) log::error("worker {} {} while saving a snapshot; the previous snapshot is kept", pid, how);
    if (state == State::kInStore) {
      log::error("worker {} {} in the store", pid, how);
      crash_ = fmt::format("worker {} {} in the store", pid, how);
      store_crashed_ = true;
    } else {
      log::error("worker {} {}{}", pid, how, state == State::kBusy ? ", its connection lost" : " while idle");
    }
  }
  if (killed && !g_stop && !store_crashed_ && !stopping_workers_ && !listeners_.empty()) rescue_stranded();
}

// worker_stopped acts on a child stopped by a signal (SIGSTOP, SIGTSTP). An
// idle worker stopped is killed: it holds nothing, but as the one waiting
// on the listeners, or the follower that a hand-off wakes, it would hold up
// new connections (acceptor.hpp); the pool replaces it. A busy one keeps
// its client waiting, and the store's lock if it holds it (--lock-timeout);
// a follower is woken to lead in its place, as it may have been the only
// worker taking connections.
void Parent::worker_stopped(pid_t pid) {
  const auto it = workers_.find(pid);
  if (it == workers_.end()) {
    snapshot_child_stopped(pid);
    return;
  }
  if (board_.slot(it->second).state.load() == State::kIdle) {
    log::warning("worker {} stopped while waiting for connections: killed, as it would hold up new ones", pid);
    kill(pid, SIGKILL);
    return;
  }
  board_.keep_leader();
}

// snapshot_child_stopped kills the snapshot child, if pid is it, when it
// stops outside the store: it would hold up every save after it, and the
// shutdown, until continued; its save fails, as for a child killed. One
// stopped in the store is --lock-timeout's (kill_lock_holders), since its
// death there costs a recovery.
void Parent::snapshot_child_stopped(pid_t pid) {
  if (pid != snapshot_pid_ || pid == 0) return;
  if (board_.slot(snapshot_slot_).state.load() == State::kInStore) return;
  log::warning("snapshot child {} stopped: killed, as it would hold up every save and the shutdown", pid);
  kill(pid, SIGKILL);
}

// stop_workers stops every worker: SIGTERM (an idle one exits, a busy one
// answers the request in hand first), then SIGKILL for those still running
// after grace. New connections wait in the backlog meanwhile.
void Parent::stop_workers(std::chrono::milliseconds grace) {
  // A worker forked meanwhile (rescue_stranded, after a kill) would be
  // waited for without end.
  stopping_workers_ = true;
  struct Done {
    bool& flag;
    ~Done() { flag = false; }
  } done{stopping_workers_};
  // SIGCONT too: a stopped worker (SIGSTOP) would act on SIGTERM only when
  // continued, and cost a recovery the whole grace.
  for (const auto& [pid, slot] : workers_) {
    kill(pid, SIGTERM);
    kill(pid, SIGCONT);
  }
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
// resume. A salvage that fails in a way that may pass (killed by the OOM
// killer, say) is tried again, after a wait that doubles from 0.1 s to 5 s,
// with the store answering "recovering" meanwhile. A salvage that finds
// the map damaged ends the recovery: the store is not served (every data
// request is answered with the reason) rather than served from a map that
// may be wrong.
void Parent::recover() {
  recovery_start_ = std::chrono::steady_clock::now();
  board_.set_health(scoreboard::Health::kRecovering);
  log::error("recovering store {}: {}", config_.name, crash_);
  salvage_attempts_ = 0;
  salvage_wait_ = kFirstRetry;
  salvage();
}

// salvage makes one attempt at the rebuild that recover started. Workers
// forked while an attempt waits answer "recovering" and never write; they
// are stopped before the attempt, so that none of them serves the old
// segment once the new one is in.
void Parent::salvage() {
  salvage_pending_ = false;
  stop_workers(std::chrono::milliseconds(1000));
  store_crashed_ = false;  // deaths while stopping are covered by this rebuild
  ++salvage_attempts_;
  recovery::Rebuilt rebuilt;
  const std::size_t old_bytes = store_->size();
  const Status s = recovery::rebuild(&store_, {recovery::kSalvageTimeoutMs, config_.debug_salvage_delay_ms}, &rebuilt);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - recovery_start_);
  if (!s && recovery::retryable(s)) {
    const std::string detail = fmt::format("salvage attempt {} failed: {}; retrying in {:.1f} s", salvage_attempts_,
                                           s.message(), salvage_wait_.count() / 1000.0);
    board_.set_health(scoreboard::Health::kRecovering, detail.c_str());
    log::error("recovering store {}: {}", config_.name, detail);
    salvage_pending_ = true;
    salvage_retry_ = std::chrono::steady_clock::now() + salvage_wait_;
    salvage_wait_ = std::min(salvage_wait_ * 2, kLastRetry);
    return;
  }
  if (!s) {
    board_.set_failed(s.message().c_str());
    log::error("recovery of store {} failed: {}; data requests get errors until shmkvd is restarted on a "
               "repaired or removed store", config_.name, s.message());
    return;
  }
  board_.recoveries.fetch_add(1);
  board_.last_recovery.store(std::time(nullptr));
  board_.set_health(scoreboard::Health::kOk);
  const std::string attempts = salvage_attempts_ > 1 ? fmt::format(" at attempt {}", salvage_attempts_) : "";
  if (rebuilt.bytes != old_bytes)
    log::warning("store {} recovered after {}: {} keys copied into a fresh segment of {} bytes (the old one, of {} "
                 "bytes, was too full to hold them with a full index) in {} ms{}",
                 config_.name, crash_, rebuilt.keys, rebuilt.bytes, old_bytes, ms.count(), attempts);
  else
    log::warning("store {} recovered after {}: {} keys copied into a fresh segment in {} ms{}", config_.name, crash_,
                 rebuilt.keys, ms.count(), attempts);
}

// kill_lock_holders kills every worker, and the snapshot child, that has
// held the store lock longer than --lock-timeout: stopped (SIGSTOP),
// looping, or swapped out, it keeps every other worker waiting. (A snapshot
// copy renews the time as it moves: store.hpp, snapshot_copy.) Its death
// in the store starts a recovery, as any other would. The scoreboard tells
// the holder from the waiters, so the parent learns this without touching
// the lock.
void Parent::kill_lock_holders() {
  if (config_.lock_timeout_s <= 0) return;
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  const std::int64_t now_ms = std::int64_t(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
  const std::int64_t limit_ms = std::int64_t(config_.lock_timeout_s) * 1000;
  const auto kill_if_late = [&](const char* what, pid_t pid, int slot) {
    std::atomic<std::int64_t>& since = board_.slot(slot).lock_held_since;
    const std::int64_t held = since.load();
    if (held == 0 || now_ms - held <= limit_ms) return;
    since.store(0);  // the holder is killed once, and logged once
    log::error("{} {} held the store lock for {:.1f} s: killed (--lock-timeout {})", what, pid,
               (now_ms - held) / 1000.0, config_.lock_timeout_s);
    kill(pid, SIGKILL);
  };
  for (const auto& [pid, slot] : workers_) kill_if_late("worker", pid, slot);
  if (snapshot_pid_ != 0) kill_if_late("snapshot child", snapshot_pid_, snapshot_slot_);
}

// wake_after is how long the loop may wait for a connection or a signal:
// without end, or a second to keep systemd's STATUS= current, a fraction of
// --lock-timeout to watch the lock's holders, until a salvage is due, or
// until the next interval snapshot's time.
const timespec* Parent::wake_after(timespec* t) const {
  std::chrono::milliseconds wait = std::chrono::milliseconds::max();
  if (notify_) wait = std::chrono::seconds(1);
  if (config_.lock_timeout_s > 0)
    wait = std::min(wait, std::clamp(std::chrono::milliseconds(config_.lock_timeout_s * 1000) / 10,
                                     std::chrono::milliseconds(50), std::chrono::milliseconds(1000)));
  if (salvage_pending_)
    wait = std::min(wait, std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                                      salvage_retry_ - std::chrono::steady_clock::now())));
  if (snapshotter::enabled(board_) && config_.snapshot_interval_s > 0 && snapshot_pid_ == 0)
    wait = std::min(wait, std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                                     next_snapshot_ - std::chrono::steady_clock::now())));
  if (wait == std::chrono::milliseconds::max()) return nullptr;
  t->tv_sec = static_cast<time_t>(wait.count() / 1000);
  t->tv_nsec = static_cast<long>(wait.count() % 1000) * 1000000L;
  return t;
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
  final_snapshot();
  log::info("stopped");
}

// snapshot_tick starts a snapshot child when the interval has passed and
// the store changed since the last snapshot (the workers count changes in
// the scoreboard: the parent looks at counters, never at the store).
void Parent::snapshot_tick() {
  if (!snapshotter::enabled(board_) || g_stop || snapshot_pid_ != 0) return;
  // A BGSAVE asked for one now (it has woken this loop).
  if (snapshotter::take_save_request(board_) && board_.health.load() == scoreboard::Health::kOk) {
    start_snapshot();
    return;
  }
  if (config_.snapshot_interval_s == 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_snapshot_) return;
  next_snapshot_ = now + std::chrono::seconds(config_.snapshot_interval_s);
  if (snapshotter::changes_since_save(board_) == 0 || board_.health.load() != scoreboard::Health::kOk) return;
  start_snapshot();
}

// start_snapshot forks a child that writes the snapshot and exits. It has a
// scoreboard slot like a worker, marked in the store while it copies, so
// that its death there is recovered from as a worker's would be (reap).
bool Parent::start_snapshot() {
  const int slot = board_.reserve(State::kBusy);
  if (slot < 0) {
    log::warning("no scoreboard slot for a snapshot child; the snapshot waits for the next interval");
    return false;
  }
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_NAME, "shmkvd-snapshot");  // for ps and top, as the salvage's
    set_handler(SIGCHLD, SIG_DFL);
    set_handler(SIGUSR1, SIG_DFL);
    set_handler(SIGTERM, SIG_IGN);  // the parent waits for it at shutdown
    set_handler(SIGINT, SIG_IGN);
    for (const listeners::Listener& l : listeners_) close(l.fd);  // never accepts
    // Watched as a worker is (kill_lock_holders), and as quick to give up
    // waiting for a lock whose holder died.
    store_->watch_lock({&board_.slot(slot).lock_held_since,
                        [this] { return board_.health.load() != scoreboard::Health::kOk; }});
    snapshotter::Saved saved;
    const Status s = snapshotter::save(*store_, board_, &board_.slot(slot), &saved);
    _exit(s ? 0 : 1);
  }
  if (pid < 0) {
    const std::string why = errno_text("fork of the snapshot child", errno);
    log::error("{}", why);
    snapshotter::record_failure(board_, why);
    board_.release(slot);
    return false;
  }
  board_.slot(slot).pid.store(pid);
  snapshot_pid_ = pid;
  snapshot_slot_ = slot;
  return true;
}

// snapshot_reaped frees the snapshot child's slot when pid was it. A child
// that died in the store is a worker's crash there: the store is rebuilt.
bool Parent::snapshot_reaped(pid_t pid, int status) {
  if (pid != snapshot_pid_ || pid == 0) return false;
  const State state = board_.slot(snapshot_slot_).state.load();
  board_.release(snapshot_slot_);
  snapshot_pid_ = 0;
  snapshot_slot_ = -1;
  if (WIFEXITED(status)) return true;  // it recorded its outcome itself
  const std::string how = fmt::format("snapshot child {} killed by signal {} ({})", pid, WTERMSIG(status),
                                      strsignal(WTERMSIG(status)));
  snapshotter::process_died(board_, pid, how);  // its temporary file, if it had begun one
  snapshotter::record_failure(board_, how);
  if (state == State::kInStore) {
    log::error("{} in the store", how);
    crash_ = how + " in the store";
    store_crashed_ = true;
  } else {
    log::error("{}; the previous snapshot is kept", how);
  }
  return true;
}

// final_snapshot writes a last snapshot once the workers have stopped, so
// that every acknowledged write is in it, and waits for it.
void Parent::final_snapshot() {
  if (!snapshotter::enabled(board_)) return;
  if (board_.health.load() != scoreboard::Health::kOk) {
    log::error("no snapshot at shutdown: the store is not served ({})", board_.health_detail());
    return;
  }
  auto wait_for_child = [this] {
    const pid_t pid = snapshot_pid_;
    int status = 0;
    for (;;) {
      if (waitpid(pid, &status, WUNTRACED) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (!WIFSTOPPED(status)) break;
      // Stopped: killed outside the store; in it, where --lock-timeout is
      // not watched now, continued to finish its copy.
      snapshot_child_stopped(pid);
      kill(pid, SIGCONT);
    }
    snapshot_reaped(pid, status);
  };
  // An interval snapshot under way may have copied the store before the
  // last writes: let it finish, then write the last one.
  if (snapshot_pid_ != 0) wait_for_child();
  log::info("writing a last snapshot to {}", board_.snapshot.path);
  if (start_snapshot()) wait_for_child();
}

}  // namespace

int run(const daemon_config::Config& config, std::vector<listeners::Listener>& listeners,
        std::unique_ptr<store::Store>& store, scoreboard::Scoreboard& board) {
  Parent parent(config, listeners, store, board);
  return parent.run();
}

}  // namespace shmkv::parent
