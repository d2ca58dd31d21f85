#include "daemon/worker.hpp"

#include <doctest/doctest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace shmkv;

namespace {

// forbid_sched_setscheduler makes sched_setscheduler fail with EPERM in this
// process, as a unit's SystemCallFilter= without it would.
bool forbid_sched_setscheduler() {
  sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_sched_setscheduler, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

// in_child starts a child under policy (forbidden to change it, with
// forbid), has it call use_batch_scheduling (or, with probe,
// batch_scheduling_allowed), and returns the policy the child then has (or
// whether the probe allowed it), or -1. A child, so that this process keeps
// its own.
int in_child(int policy, bool probe = false, bool forbid = false) {
  int pipe_fds[2];
  REQUIRE(pipe(pipe_fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const sched_param param{};
    int after = -1;
    if (sched_setscheduler(0, policy, &param) == 0 && (!forbid || forbid_sched_setscheduler())) {
      if (probe) {
        after = worker::batch_scheduling_allowed();
      } else {
        worker::use_batch_scheduling();
        after = sched_getscheduler(0);
      }
    }
    (void)!write(pipe_fds[1], &after, sizeof after);
    _exit(0);
  }
  close(pipe_fds[1]);
  int after = -1;
  CHECK(read(pipe_fds[0], &after, sizeof after) == sizeof after);
  close(pipe_fds[0]);
  int status = 0;
  CHECK(waitpid(pid, &status, 0) == pid);
  return after;
}

}  // namespace

TEST_CASE("a worker under SCHED_OTHER moves to SCHED_BATCH") {
  CHECK(in_child(SCHED_OTHER) == SCHED_BATCH);
  CHECK(in_child(SCHED_OTHER, true) == 1);
}

TEST_CASE("a worker keeps a policy the daemon was started under") {
  // SCHED_IDLE is the one besides SCHED_BATCH that needs no privilege.
  CHECK(in_child(SCHED_IDLE) == SCHED_IDLE);
  CHECK(in_child(SCHED_BATCH) == SCHED_BATCH);
  CHECK(in_child(SCHED_IDLE, true) == 0);
  CHECK(in_child(SCHED_BATCH, true) == 0);
}

TEST_CASE("a daemon forbidden to change its policy says so, and its workers stay") {
  CHECK(in_child(SCHED_OTHER, true, true) == 0);
  CHECK(in_child(SCHED_OTHER, false, true) == SCHED_OTHER);
}
