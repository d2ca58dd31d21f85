#include "daemon/daemonize.hpp"

#include "common/directories.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>

namespace shmkv::daemonize {

namespace {

// check_directory refuses a pidfile directory that anyone could plant a
// pidfile in (common/directories.hpp).
Status check_directory(const std::string& path) {
  return directories::check_closed("pidfile", path, std::filesystem::path(path).parent_path().string(),
                                   "give a path in a directory only its owner may write, such as /run", false);
}

// check_file refuses an opened pidfile that is not a plain file of
// shmkvd's own user with one name: writing the pid into somebody else's
// file, or through a second name into another file, is what a planted
// pidfile would get out of the daemon.
Status check_file(int fd, const std::string& path) {
  struct stat st;
  if (fstat(fd, &st) < 0) return Status::io(errno_text("pidfile " + path, errno));
  if (!S_ISREG(st.st_mode))
    return Status::invalid(fmt::format("pidfile {} is not a regular file; remove it or give another path", path));
  if (st.st_uid != geteuid())
    return Status::invalid(fmt::format("pidfile {} belongs to uid {}, not to shmkvd's uid {}; remove it if it is "
                                       "stale, or give another path",
                                       path, st.st_uid, geteuid()));
  if (st.st_nlink != 1)
    return Status::invalid(fmt::format("pidfile {} has {} hard links; remove it or give another path", path,
                                       st.st_nlink));
  return Status::ok();
}

}  // namespace

// lock creates the pidfile without following a link at its path
// (O_NOFOLLOW): a link planted there, by anyone who could write the
// directory, would otherwise make the daemon truncate and write the link's
// target.
Status Pidfile::lock(const std::string& path) {
  if (Status s = check_directory(path); !s) return s;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
  if (fd < 0 && errno == ELOOP)
    return Status::invalid(fmt::format("pidfile {} is a symbolic link, which shmkvd does not follow; remove it "
                                       "or give another path",
                                       path));
  if (fd < 0) return Status::io(errno_text("pidfile " + path, errno));
  if (Status s = check_file(fd, path); !s) {
    ::close(fd);
    return s;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
    const int err = errno;
    char text[32] = {};
    const ssize_t n = pread(fd, text, sizeof text - 1, 0);
    ::close(fd);
    std::string pid(text, n > 0 ? static_cast<std::size_t>(n) : 0);
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    if (err == EWOULDBLOCK)
      return Status::busy(fmt::format("shmkvd is already running as pid {} (pidfile {}); stop it first",
                                      pid.empty() ? "?" : pid, path));
    return Status::io(errno_text("lock pidfile " + path, err));
  }
  path_ = path;
  fd_ = fd;
  return Status::ok();
}

Status Pidfile::write() {
  const std::string text = fmt::format("{}\n", getpid());
  if (ftruncate(fd_, 0) < 0 || pwrite(fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
    return Status::io(errno_text("write pidfile " + path_, errno));
  return Status::ok();
}

void Pidfile::remove() {
  if (fd_ < 0) return;
  unlink(path_.c_str());
  ::close(fd_);
  fd_ = -1;
}

namespace {
int g_ready_fd = -1;  // the daemon's end of the pipe to the waiting original process
}

Status detach() {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) < 0) return Status::io(errno_text("pipe", errno));
  const pid_t first = fork();
  if (first < 0) return Status::io(errno_text("fork", errno));
  if (first > 0) {  // the original process: wait for the daemon's word
    ::close(pipe_fds[1]);
    char byte = 0;
    ssize_t n;
    do n = read(pipe_fds[0], &byte, 1);
    while (n < 0 && errno == EINTR);
    if (n == 1) _exit(0);
    std::fprintf(stderr, "shmkvd: the daemon exited before it was ready; see the system log\n");
    _exit(1);
  }
  ::close(pipe_fds[0]);
  setsid();
  // Fork again so that the daemon, no session leader, can never regain a
  // controlling terminal.
  const pid_t second = fork();
  if (second < 0) _exit(1);
  if (second > 0) _exit(0);
  if (chdir("/") < 0) _exit(1);
  const int null = ::open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    if (null > STDERR_FILENO) ::close(null);
  }
  g_ready_fd = pipe_fds[1];
  return Status::ok();
}

void ready() {
  if (g_ready_fd < 0) return;
  const char byte = 1;
  (void)!::write(g_ready_fd, &byte, 1);
  ::close(g_ready_fd);
  g_ready_fd = -1;
}

}  // namespace shmkv::daemonize
