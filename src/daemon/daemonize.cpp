#include "daemon/daemonize.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fmt/format.h>

namespace shmkv::daemonize {

Status Pidfile::lock(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::io(errno_text("pidfile " + path, errno));
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
