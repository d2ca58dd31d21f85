#include "daemon/listeners.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstdlib>
#include <string_view>
#include <utility>

#include "common/net.hpp"

namespace shmkv::listeners {
namespace {

// prepare makes a listener non-blocking and close-on-exec, and turns Nagle
// off on it: accepted TCP sockets inherit TCP_NODELAY on Linux, which saves a
// system call per connection.
void prepare(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  net::set_nodelay(fd);
}

// defer_accept queues a TCP connection for accept() only once its first
// bytes are in (nginx's "deferred"), so that a worker woken for it finds the
// request there and reads it at once, rather than sleeping again in poll()
// until it comes: that second sleep cost half a context switch per
// connection (perf, shmkv-bench --mode conn -c 16). A client silent for a
// second is accepted all the same (Linux lets the deferral lapse). Sockets
// from systemd keep what their unit says (DeferAcceptSec=).
void defer_accept(int fd) {
  const int seconds = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &seconds, sizeof seconds);
}

// name_of describes a listening socket systemd passed, for logs.
std::string name_of(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0 && addr.ss_family == AF_UNIX) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(&addr);
    return fmt::format("{} (from systemd)", un->sun_path[0] ? un->sun_path : "abstract socket");
  }
  return fmt::format("{} (from systemd)", net::local_name(fd));
}

}  // namespace

Status open_all(const Config& config, std::vector<Listener>* out, bool* activated) {
  out->clear();
  // 1: take LISTEN_FDS out of the environment, so that no worker sees it.
  // A socket named "resp" (FileDescriptorName=resp) speaks RESP.
  char** names = nullptr;
  const int passed = sd_listen_fds_with_names(1, &names);
  if (passed < 0) return Status::io(errno_text("sd_listen_fds", -passed));
  std::vector<Protocol> protocols;
  for (int i = 0; i < passed; ++i)
    protocols.push_back(names && names[i] && std::string_view(names[i]) == kRespFdName ? Protocol::kResp
                                                                                      : Protocol::kJson);
  if (names) {
    for (int i = 0; i < passed; ++i) free(names[i]);
    free(names);
  }
  *activated = passed > 0;
  for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + passed; ++fd) {
    if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
      close_all(*out);
      return Status::invalid(fmt::format("file descriptor {} passed by systemd is not a listening stream socket "
                                         "(check ListenStream= in the .socket unit)",
                                         fd));
    }
    prepare(fd);
    const Protocol protocol = protocols[static_cast<std::size_t>(fd - SD_LISTEN_FDS_START)];
    out->push_back({fd, protocol, name_of(fd) + (protocol == Protocol::kResp ? " (RESP)" : ""), ""});
  }
  if (*activated) return Status::ok();

  for (const auto& [port, protocol] : {std::pair{config.port, Protocol::kJson}, std::pair{config.resp_port, Protocol::kResp}}) {
    if (port == 0) continue;
    Listener l;
    l.protocol = protocol;
    if (Status s = net::listen_tcp(config.bind, port, config.backlog, &l.fd); !s) {
      close_all(*out);
      return s;
    }
    prepare(l.fd);
    // Our protocol's clients send their request as they connect; a RESP
    // client (redis-cli, a pool) may connect and wait, so only JSON defers.
    if (protocol == Protocol::kJson) defer_accept(l.fd);
    l.name = net::format_address(config.bind, port) + (protocol == Protocol::kResp ? " (RESP)" : "");
    out->push_back(std::move(l));
  }
  for (const auto& [path, protocol] : {std::pair{&config.socket_path, Protocol::kJson},
                                       std::pair{&config.resp_socket_path, Protocol::kResp}}) {
    if (path->empty()) continue;
    Listener l;
    l.protocol = protocol;
    if (Status s = net::listen_unix(*path, config.socket_mode, config.backlog, &l.fd); !s) {
      close_all(*out);
      return s;
    }
    prepare(l.fd);
    l.socket_file = *path;
    l.name = *path + (protocol == Protocol::kResp ? " (RESP)" : "");
    out->push_back(std::move(l));
  }
  return Status::ok();
}

void close_all(std::vector<Listener>& listeners) {
  for (const Listener& l : listeners) {
    close(l.fd);
    if (!l.socket_file.empty()) unlink(l.socket_file.c_str());
  }
  listeners.clear();
}

}  // namespace shmkv::listeners
