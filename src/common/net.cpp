#include "common/net.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include <cerrno>
#include <fmt/format.h>

namespace shmkv::net {

std::string format_address(const std::string& address, std::uint16_t port) {
  if (address.find(':') != std::string::npos) return fmt::format("[{}]:{}", address, port);
  return fmt::format("{}:{}", address, port);
}

Status listen_tcp(const std::string& address, std::uint16_t port, int backlog, int* fd) {
  const std::string where = format_address(address, port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = getaddrinfo(address.c_str(), service.c_str(), &hints, &found); rc != 0)
    return Status::invalid(fmt::format("bind {}: {} (give a numeric IPv4 or IPv6 address)", where,
                                       gai_strerror(rc)));
  const int s = socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol);
  if (s < 0) {
    const int err = errno;
    freeaddrinfo(found);
    return Status::io(errno_text("socket " + where, err));
  }
  const int on = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (found->ai_family == AF_INET6) setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  const int bound = bind(s, found->ai_addr, found->ai_addrlen);
  const int err = errno;
  freeaddrinfo(found);
  if (bound < 0) {
    close(s);
    return Status::io(errno_text("bind " + where, err));
  }
  if (listen(s, backlog) < 0) {
    const int listen_err = errno;
    close(s);
    return Status::io(errno_text("listen " + where, listen_err));
  }
  *fd = s;
  return Status::ok();
}

namespace {

// unix_address fills *addr with path, which must fit sun_path.
Status unix_address(const std::string& path, sockaddr_un* addr) {
  *addr = sockaddr_un{};
  addr->sun_family = AF_UNIX;
  if (path.size() >= sizeof addr->sun_path)
    return Status::invalid(fmt::format("socket path {} is longer than {} bytes", path, sizeof addr->sun_path - 1));
  std::memcpy(addr->sun_path, path.c_str(), path.size() + 1);
  return Status::ok();
}

}  // namespace

Status listen_unix(const std::string& path, unsigned mode, int backlog, int* fd) {
  sockaddr_un addr;
  if (Status s = unix_address(path, &addr); !s) return s;
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return Status::io(fmt::format("{} exists and is not a socket", path));
    // Only a refused connection proves the socket stale. A non-blocking
    // probe cannot hang on a live server whose backlog is full (EAGAIN).
    const int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (probe < 0) return Status::io(errno_text("socket", errno));
    const int rc = connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    const int err = errno;
    close(probe);
    if (rc == 0 || err == EAGAIN) return Status::io(fmt::format("{} is in use by a running server", path));
    if (err != ECONNREFUSED) return Status::io(errno_text("probe of existing socket " + path, err));
    unlink(path.c_str());
  }
  const int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return Status::io(errno_text("socket " + path, errno));
  // Bind under a umask that leaves no window in which the socket is more open
  // than mode, then set the exact mode (bind applies the umask).
  const mode_t old_umask = umask(0777 & ~mode);
  const int bound = bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  const int bind_err = errno;
  umask(old_umask);
  if (bound < 0) {
    close(s);
    return Status::io(errno_text("bind " + path, bind_err));
  }
  if (chmod(path.c_str(), mode) < 0 || listen(s, backlog) < 0) {
    const int err = errno;
    close(s);
    unlink(path.c_str());
    return Status::io(errno_text("listen " + path, err));
  }
  *fd = s;
  return Status::ok();
}

namespace {

// connect_one connects s to addr, waiting at most timeout_ms (0: forever).
int connect_one(int s, const addrinfo* addr, int timeout_ms) {
  const int flags = fcntl(s, F_GETFL);
  fcntl(s, F_SETFL, flags | O_NONBLOCK);
  if (connect(s, addr->ai_addr, addr->ai_addrlen) < 0) {
    if (errno != EINPROGRESS) return errno;
    pollfd p{s, POLLOUT, 0};
    int ready;
    do ready = poll(&p, 1, timeout_ms > 0 ? timeout_ms : -1);
    while (ready < 0 && errno == EINTR);
    if (ready == 0) return ETIMEDOUT;
    if (ready < 0) return errno;
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return err;
  }
  fcntl(s, F_SETFL, flags);
  return 0;
}

// lookup resolves host:port for a stream socket; free *found with freeaddrinfo.
int lookup(const std::string& host, std::uint16_t port, addrinfo** found) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  return getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, found);
}

}  // namespace

Status connect_tcp(const std::string& host, std::uint16_t port, int timeout_ms, int* fd) {
  const std::string where = format_address(host, port);
  addrinfo* found = nullptr;
  if (int rc = lookup(host, port, &found); rc != 0)
    return Status::io(fmt::format("connect {}: {}", where, gai_strerror(rc)));
  int err = 0;
  for (const addrinfo* a = found; a; a = a->ai_next) {
    const int s = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (s < 0) {
      err = errno;
      continue;
    }
    err = connect_one(s, a, timeout_ms);
    if (err == 0) {
      freeaddrinfo(found);
      if (timeout_ms > 0) {
        timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      }
      set_nodelay(s);
      *fd = s;
      return Status::ok();
    }
    close(s);
  }
  freeaddrinfo(found);
  if (err == ETIMEDOUT) return Status::timeout(errno_text("connect " + where, err));
  return Status::io(errno_text("connect " + where, err));
}

Status connect_unix(const std::string& path, int timeout_ms, int* fd) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path)
    return Status::invalid(
        fmt::format("connect {}: a UNIX socket path has 1 to {} bytes", path, sizeof addr.sun_path - 1));
  path.copy(addr.sun_path, path.size());
  const int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return Status::io(errno_text("socket " + path, errno));
  // A blocking connect to a UNIX socket waits only while the listener's
  // backlog is full, and Linux bounds that wait by SO_SNDTIMEO (then EAGAIN):
  // setting the timeouts first bounds the connect as well.
  if (timeout_ms > 0) {
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  if (connect(s, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0) {
    const int err = errno;
    close(s);
    if (err == EAGAIN) return Status::timeout(fmt::format("connect {}: the server's backlog stayed full", path));
    return Status::io(errno_text("connect " + path, err));
  }
  *fd = s;
  return Status::ok();
}

Status resolve_tcp(const std::string& host, std::uint16_t port, Address* out) {
  const std::string where = format_address(host, port);
  addrinfo* found = nullptr;
  if (int rc = lookup(host, port, &found); rc != 0)
    return Status::io(fmt::format("resolve {}: {}", where, gai_strerror(rc)));
  std::memcpy(&out->storage, found->ai_addr, found->ai_addrlen);
  out->length = found->ai_addrlen;
  out->text = where;
  freeaddrinfo(found);
  return Status::ok();
}

Status resolve_unix(const std::string& path, Address* out) {
  sockaddr_un addr;
  if (Status s = unix_address(path, &addr); !s) return s;
  std::memcpy(&out->storage, &addr, sizeof addr);
  out->length = sizeof addr;
  out->text = path;
  return Status::ok();
}

Status connect_start(const Address& address, int* fd, bool* in_progress) {
  const int family = address.storage.ss_family;
  const int s = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s < 0) return Status::io(errno_text("socket for " + address.text, errno));
  if (family != AF_UNIX) set_nodelay(s);
  *in_progress = false;
  if (connect(s, reinterpret_cast<const sockaddr*>(&address.storage), address.length) < 0) {
    const int err = errno;
    if (err == EINPROGRESS) {
      *in_progress = true;
    } else {
      close(s);
      if (err == EAGAIN) return Status::busy(fmt::format("connect {}: the backlog is full", address.text));
      return Status::io(errno_text("connect " + address.text, err));
    }
  }
  *fd = s;
  return Status::ok();
}

Status send_all(int fd, const char* data, std::size_t length) {
  while (length > 0) {
    const ssize_t n = send(fd, data, length, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Status::timeout("write timed out");
      return Status::io(errno_text("write", errno));
    }
    data += n;
    length -= static_cast<std::size_t>(n);
  }
  return Status::ok();
}

Status send_waiting(int fd, std::string_view data, int timeout_ms, const std::function<void()>& before_wait) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    // MSG_DONTWAIT: the socket may block for reads (daemon/blocking_read).
    const ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return Status::io(errno_text("write", errno));
    if (before_wait) before_wait();
    pollfd p{fd, POLLOUT, 0};
    int ready;
    while ((ready = poll(&p, 1, timeout_ms > 0 ? timeout_ms : -1)) < 0 && errno == EINTR) {
    }
    if (ready <= 0)
      return Status::timeout(fmt::format("the client read no reply for {} ms", timeout_ms));
  }
  return Status::ok();
}

void set_nodelay(int fd) {
  const int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);  // fails harmlessly on UNIX sockets
}

namespace {

std::string describe(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = "?";
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    return format_address(host, ntohs(in->sin_port));
  }
  if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    return format_address(host, ntohs(in6->sin6_port));
  }
  return "UNIX socket";
}

}  // namespace

std::string peer_name(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) < 0) return "unknown peer";
  return describe(addr);
}

std::string local_name(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) < 0) return "unknown address";
  return describe(addr);
}

}  // namespace shmkv::net
