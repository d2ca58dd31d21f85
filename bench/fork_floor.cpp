// fork_floor: the floor under shmkvd's process-per-connection model over RESP,
// for make bench: pre-forked processes that each accept a connection and
// answer +OK to every command in it, without parsing and without a store.
// What redis-benchmark gets from it is the most a worker per connection can
// give on this machine: the wake-up and switch per request, and nothing else.
//
// A command is found by the '*' that begins it; that is enough for
// redis-benchmark's commands, not for RESP at large. The processes run under
// SCHED_BATCH, as shmkvd's workers do by default (--worker-scheduling).
//
// usage: fork-floor PORT [PROCESSES]   (127.0.0.1; PROCESSES defaults to 64)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

// serve answers the commands on conn until the client closes: one blocking
// read and one write per batch, as a shmkvd worker does.
void serve(int conn) {
  const int on = 1;
  setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  char in[16 << 10];
  std::string out;
  bool line_start = true;  // the next byte begins a line
  for (;;) {
    const ssize_t n = read(conn, in, sizeof in);
    if (n <= 0) return;
    out.clear();
    for (ssize_t i = 0; i < n; ++i) {
      if (line_start && in[i] == '*') out += "+OK\r\n";
      line_start = in[i] == '\n';
    }
    if (!out.empty() && write(conn, out.data(), out.size()) < 0) return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: fork-floor PORT [PROCESSES]\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const int processes = argc > 2 ? std::atoi(argv[2]) : 64;
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int on = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || listen(listener, 511) < 0) {
    std::perror("fork-floor: 127.0.0.1");
    return 1;
  }
  const pid_t parent = getpid();
  for (int i = 0; i < processes; ++i) {
    if (fork() != 0) continue;
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // stopping the parent stops them all
    if (getppid() != parent) _exit(0);
    const sched_param param{};
    if (sched_setscheduler(0, SCHED_BATCH, &param) != 0) std::perror("fork-floor: SCHED_BATCH");
    for (;;) {
      const int conn = accept(listener, nullptr, nullptr);
      if (conn < 0) continue;
      serve(conn);
      close(conn);
    }
  }
  while (wait(nullptr) > 0) {
  }
  return 0;
}
