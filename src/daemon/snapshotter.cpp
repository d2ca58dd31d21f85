#include "daemon/snapshotter.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <thread>
#include <vector>

#include "common/log.hpp"
#include "protocol/json.hpp"
#include "store/snapshot.hpp"

namespace shmkv::snapshotter {
namespace {

using Clock = std::chrono::steady_clock;

DebugDelays g_debug;  // constant after init

std::uint64_t now_unix_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// SaveLock holds the board's save mutex. A saver that died holding it left
// nothing shared half-done that the next one reads (the snapshot file is
// its own temporary until renamed), so its state is simply declared good.
class SaveLock {
 public:
  explicit SaveLock(pthread_mutex_t* mutex) : mutex_(mutex) {
    int rc = pthread_mutex_lock(mutex_);
    if (rc == EOWNERDEAD) {
      pthread_mutex_consistent(mutex_);
      rc = 0;
    }
    held_ = rc == 0;
  }
  ~SaveLock() {
    if (held_) pthread_mutex_unlock(mutex_);
  }
  bool held() const { return held_; }

 private:
  pthread_mutex_t* mutex_;
  bool held_ = false;
};

// set_failure writes the failure text under the seqlock. REQUIRES: the save
// lock held (or the parent, with no saver running).
void set_failure(scoreboard::SnapshotBoard& b, const std::string& why) {
  b.failure_seq.fetch_add(1);
  std::snprintf(b.failure, sizeof b.failure, "%s", why.c_str());
  b.failure_seq.fetch_add(1);
  b.failed.store(true);
}

// write_copy writes the file from the copy; its temporary name carries
// owner's pid.
Status write_copy(store::SnapshotCopy& copy, const std::string& path, pid_t owner, std::uint64_t* keys,
                  std::uint64_t* bytes) {
  // The file announces its record count first, and expired keys are left
  // out as the copy is walked: the records (views into the copy) are
  // gathered before the file is begun.
  std::vector<snapshot::Record> records;
  records.reserve(copy.count());
  snapshot::Record r;
  while (copy.next(&r)) records.push_back(r);
  if (!copy.status()) return Status::corrupt(fmt::format("snapshot {}: {}", path, copy.status().message()));
  std::unique_ptr<snapshot::Writer> writer;
  if (Status s = snapshot::Writer::open(path, records.size(), &writer, owner); !s) return s;
  for (const snapshot::Record& rec : records)
    if (Status s = writer->add(rec); !s) return s;
  if (g_debug.writer > 0) {
    log::warning("snapshot writer {}: sleeping {} ms before it finishes {}, as asked", getpid(), g_debug.writer,
                 writer->temp_path());
    std::this_thread::sleep_for(std::chrono::milliseconds(g_debug.writer));
  }
  if (Status s = writer->commit(bytes); !s) return s;
  *keys = records.size();
  return Status::ok();
}

// What a writer tells its saver, in one write to a pipe (within PIPE_BUF,
// so whole or not at all).
struct Report {
  std::uint64_t keys = 0;
  std::uint64_t bytes = 0;
  bool ok = false;
  char error[232] = {};
};

// read_report reads the writer's report from fd until the writer closes
// it, and returns the bytes read. It looks every second whether the writer
// has been stopped (SIGSTOP, SIGTSTP): one stopped would hold this save,
// every save after it and the daemon's shutdown until continued, so it is
// killed, and the save fails as for a writer killed (shmkvd(8), Snapshots).
std::size_t read_report(int fd, pid_t writer, Report* report) {
  std::size_t got = 0;
  while (got < sizeof *report) {
    pollfd p{fd, POLLIN, 0};
    const int ready = poll(&p, 1, 1000);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) {
      // WSTOPPED alone: a stop is reported, an exit left for waitpid.
      siginfo_t info{};
      if (waitid(P_PID, static_cast<id_t>(writer), &info, WSTOPPED | WNOHANG) == 0 && info.si_pid == writer) {
        log::warning("snapshot writer {} stopped by signal {} ({}): killed, as it would hold up every save", writer,
                     info.si_status, strsignal(info.si_status));
        kill(writer, SIGKILL);  // its end closes the pipe
      }
      continue;
    }
    const ssize_t n = read(fd, reinterpret_cast<char*>(report) + got, sizeof *report - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  return got;
}

// write_in_child writes the file from the copy in a forked writer and waits
// for it. The copy is let go as soon as the writer has it (its own
// copy-on-write view), so that the memory is the writer's alone: if the OOM
// killer must pick, it picks the writer, whose death costs this save only.
// A writer killed mid-write leaves its temporary file, removed here. When
// no writer can be forked the file is written in this process.
Status write_in_child(std::unique_ptr<store::SnapshotCopy>& copy, const std::string& path, Saved* out) {
  const pid_t saver = getpid();
  int fds[2];
  pid_t pid = -1;
  if (pipe2(fds, O_CLOEXEC) == 0) {
    pid = fork();
    if (pid < 0) {
      const int err = errno;
      close(fds[0]);
      close(fds[1]);
      errno = err;
    }
  }
  if (pid < 0) {
    log::warning("{}; writing the snapshot in this process", errno_text("fork of the snapshot writer", errno));
    return write_copy(*copy, path, saver, &out->keys, &out->bytes);
  }
  if (pid == 0) {
    // The writer: it dies with its saver (whose death the parent handles),
    // and leaves with _exit.
    close(fds[0]);
    prctl(PR_SET_NAME, "shmkvd-writer");  // for ps and top
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != saver) _exit(1);
    // The OOM killer's first choice: its death costs one save and frees the
    // copy, where a worker's would cost a client, the parent's the daemon.
    if (const int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC); fd >= 0) {
      const ssize_t ignored = write(fd, "1000", 4);
      (void)ignored;
      close(fd);
    }
    Report report;
    try {
      const Status s = write_copy(*copy, path, saver, &report.keys, &report.bytes);
      report.ok = s.is_ok();
      if (!s) std::snprintf(report.error, sizeof report.error, "%s", s.message().c_str());
    } catch (const std::exception& e) {
      std::snprintf(report.error, sizeof report.error, "snapshot writer: %s", e.what());
    }
    const ssize_t n = write(fds[1], &report, sizeof report);
    _exit(report.ok && n == ssize_t(sizeof report) ? 0 : 1);
  }
  close(fds[1]);
  copy.reset();
  Report report;
  const std::size_t got = read_report(fds[0], pid, &report);
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status) || got != sizeof report) {
    int removed = 0;
    snapshot::remove_temporaries(path, &removed, saver);
    const std::string how = WIFSIGNALED(status)
                                ? fmt::format("killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)))
                                : fmt::format("exited with status {} and no report", WEXITSTATUS(status));
    return Status::io(fmt::format("snapshot writer {} {}{}", pid, how, removed ? "; its temporary file removed" : ""));
  }
  if (!report.ok) {
    report.error[sizeof report.error - 1] = '\0';
    return Status::io(report.error);
  }
  out->keys = report.keys;
  out->bytes = report.bytes;
  return Status::ok();
}

}  // namespace

Status init(scoreboard::Scoreboard& board, const std::string& path, DebugDelays debug) {
  g_debug = debug;
  scoreboard::SnapshotBoard& b = board.snapshot;
  if (path.size() >= sizeof b.path) return Status::invalid(fmt::format("--snapshot path is too long: {}", path));
  std::snprintf(b.path, sizeof b.path, "%s", path.c_str());
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  const int rc = pthread_mutex_init(&b.save_mutex, &attr);
  pthread_mutexattr_destroy(&attr);
  if (rc != 0) return Status::io(errno_text("the snapshot save lock", rc));
  return Status::ok();
}

Status load_at_start(store::Store& store, const std::string& path, std::size_t* loaded) {
  *loaded = 0;
  if (Status s = snapshot::check_directory(path); !s) return s;
  int removed = 0;
  // One left that cannot be removed is in no save's way: each save makes
  // a name of its own.
  if (Status s = snapshot::remove_temporaries(path, &removed); !s)
    log::warning("{}: left in place; remove it by hand", s.message());
  if (removed > 0) log::warning("removed {} temporary snapshot files that an interrupted save left beside {}", removed, path);
  if (!store.created()) return Status::ok();
  snapshot::File file;
  Status s = snapshot::File::read(path, &file, store.size());
  if (s.is_not_found()) {
    log::info("no snapshot {} yet: the store starts empty", path);
    return Status::ok();
  }
  const std::string advice = fmt::format(
      "; shmkvd did not start and left the file as it was: move it aside (mv {0} {0}.bad) to start with an "
      "empty store, or put a good snapshot in its place",
      path);
  if (!s) return Status(s.code() == Status::Code::kCorrupt ? Status::corrupt(s.message() + advice) : s);
  // A snapshot whose checksum holds was written whole; these are for one
  // made by hand: a JSON value that is not JSON would be spliced into GET
  // replies as it is (shmkv-protocol(7), Requests and replies).
  const auto accept = [](const snapshot::Record& r) {
    const std::string key = fmt::format("{:?}", std::string(r.key.substr(0, 64)));
    if (!json::is_utf8(r.key)) return Status::corrupt(fmt::format("key {} is not valid UTF-8", key));
    if (r.kind == snapshot::Kind::kJson)
      if (Status s = json::check_value(r.value); !s)
        return Status::corrupt(fmt::format("the value of key {} is not JSON text: {}", key, s.message()));
    return Status::ok();
  };
  std::size_t expired = 0;
  s = store.load_snapshot(file, now_unix_ms(), loaded, &expired, accept);
  if (!s)
    return Status::corrupt(fmt::format("loading snapshot {}: {}{}", path, s.message(),
                                       s.code() == Status::Code::kCorrupt ? advice : std::string()));
  log::info("loaded {} keys from {}{}", *loaded, path,
            expired ? fmt::format(" ({} had expired and were left out)", expired) : std::string());
  return Status::ok();
}

Status save(store::Store& store, scoreboard::Scoreboard& board, scoreboard::Slot* slot, Saved* out) {
  scoreboard::SnapshotBoard& b = board.snapshot;
  if (!enabled(board)) return Status::invalid("snapshots are off: start shmkvd with --snapshot PATH");
  const std::string path = b.path;
  // A save waits for another's end, and for the disk: a worker that does it
  // first leaves another waiting for new connections (acceptor.hpp).
  board.keep_leader();
  SaveLock lock(&b.save_mutex);
  if (!lock.held()) return Status::io("the snapshot save lock is unusable");
  b.saver.store(getpid());
  struct Done {
    std::atomic<pid_t>& saver;
    ~Done() { saver.store(0); }
  } done{b.saver};
  const auto start = Clock::now();
  // Changes counted before the copy are in it; one counted while it is
  // taken may be in it too, and is saved again next time: never lost.
  const std::uint64_t changes = b.changes.load();
  std::unique_ptr<store::SnapshotCopy> copy;
  Status s;
  {
    if (slot) slot->state.store(scoreboard::State::kInStore);
    s = store.snapshot_copy(&copy, &out->lock_us, g_debug.copy_pause);
    if (slot) slot->state.store(scoreboard::State::kBusy);
  }
  if (s) s = write_in_child(copy, path, out);
  copy.reset();
  out->ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
  if (!s) {
    log::error("snapshot {} not written, the previous one is kept: {}", path, s.message());
    set_failure(b, s.message());
    return s;
  }
  b.changes_at_save.store(changes);
  b.last_save_keys.store(out->keys);
  b.last_save_ms.store(out->ms);
  b.last_save.store(std::time(nullptr));
  b.failed.store(false);
  log::info("snapshot {} written: {} keys, {} bytes in {} ms (store lock held {} us)", path, out->keys, out->bytes,
            out->ms, out->lock_us);
  return Status::ok();
}

Status request_save(scoreboard::Scoreboard& board, bool schedule) {
  if (!enabled(board)) return Status::invalid("snapshots are off: start shmkvd with --snapshot PATH");
  const bool busy = saving(board) || board.snapshot.save_requested.load();
  if (busy && !schedule) return Status::busy("a save is under way");
  board.snapshot.save_requested.store(true);
  if (board.daemon_pid > 0) kill(board.daemon_pid, SIGUSR1);  // wakes the parent's loop, which then looks
  return busy ? Status::busy("a save is under way; this one is scheduled") : Status::ok();
}

void record_failure(scoreboard::Scoreboard& board, const std::string& why) { set_failure(board.snapshot, why); }

// The parent writes the failure without the save lock, which the dead
// saver held: a save begun since (the lock is robust) may write its own
// outcome at the same time, and the later of the two is what STATS shows.
bool process_died(scoreboard::Scoreboard& board, pid_t pid, const std::string& who) {
  if (!enabled(board)) return false;
  scoreboard::SnapshotBoard& b = board.snapshot;
  pid_t saving = pid;
  if (!b.saver.compare_exchange_strong(saving, 0)) return false;
  // Its writer got SIGKILL when it died (PR_SET_PDEATHSIG), before the
  // death was reported to the parent: nothing writes the file any more.
  const std::string path = b.path;
  int removed = 0;
  if (Status s = snapshot::remove_temporaries(path, &removed, pid); !s) log::warning("{}", s.message());
  set_failure(b, fmt::format("{} while saving", who));
  return true;
}

std::string status(scoreboard::Scoreboard& board) {
  const scoreboard::SnapshotBoard& b = board.snapshot;
  if (!enabled(board)) return "off";
  if (!b.failed.load()) return "ok";
  for (int tries = 0; tries < 100; ++tries) {
    const std::uint32_t before = b.failure_seq.load();
    if (before & 1) continue;
    char text[sizeof b.failure];
    std::memcpy(text, b.failure, sizeof text);
    if (b.failure_seq.load() != before) continue;
    text[sizeof text - 1] = '\0';
    return fmt::format("failed: {}", text);
  }
  return "failed";
}

}  // namespace shmkv::snapshotter
