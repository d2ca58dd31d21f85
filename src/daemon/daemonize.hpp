// Classic daemon mode (--daemonize, --pidfile): detaching from the terminal,
// and a pidfile that a second daemon sees is live. Under systemd neither is
// needed; they serve init scripts and hand-started daemons.
#pragma once

#include <string>

#include "shmkv/status.hpp"

namespace shmkv::daemonize {

// Pidfile is locked for as long as its daemon lives, so that a live one is
// refused without trusting the pid inside (pids are reused) and a stale one,
// left by a crash, is simply taken over.
class Pidfile {
 public:
  // lock opens and locks path; kBusy names the running daemon's pid.
  Status lock(const std::string& path);
  // write records the calling process's pid (call it after detach).
  Status write();
  // remove deletes the file at exit; the lock goes with the process. The
  // destructor removes it too, for a start-up that fails after lock().
  void remove();
  ~Pidfile() { remove(); }

 private:
  std::string path_;
  int fd_ = -1;
};

// detach turns the process into a daemon: it forks twice and returns in the
// grandchild, which is in a new session, in /, with stdin, stdout and stderr
// on /dev/null. The original process waits and exits 0 once the daemon calls
// ready(), or 1 if the daemon exits first, so that a script that starts
// shmkvd --daemonize may use it at once.
Status detach();
void ready();

}  // namespace shmkv::daemonize
