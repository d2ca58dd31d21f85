// Sockets at the system-call edge: listening and connecting over TCP (IPv4 or
// IPv6, numeric addresses or host names), whole writes, and peer names for
// logs. Every failure comes back as a Status whose message names the address.
#pragma once

#include <cstddef>
#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "shmkv/status.hpp"

namespace shmkv::net {

// listen_tcp binds and listens on address:port (a numeric IPv4 or IPv6
// address) and sets *fd to the close-on-exec listening socket.
Status listen_tcp(const std::string& address, std::uint16_t port, int backlog, int* fd);

// listen_unix binds and listens on a UNIX stream socket at path with the given
// mode. A stale socket file (nobody accepting on it) is replaced; a live one
// is refused, as is any other kind of file.
Status listen_unix(const std::string& path, unsigned mode, int backlog, int* fd);

// connect_tcp connects to host:port, trying each address host resolves to,
// giving up on each after timeout_ms. *fd is a blocking socket whose reads
// and writes also time out after timeout_ms (0: never).
Status connect_tcp(const std::string& host, std::uint16_t port, int timeout_ms, int* fd);

// connect_unix connects to the UNIX stream socket at path, giving up after
// timeout_ms when the listener's backlog is full. Like connect_tcp, *fd is a
// blocking socket whose reads and writes time out after timeout_ms (0: never).
Status connect_unix(const std::string& path, int timeout_ms, int* fd);

// Address is a server's address resolved once, for a program that connects to
// it many times without blocking (shmkv-bench): TCP or a UNIX socket.
struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  std::string text;  // "host:port" or the socket's path, for messages
};

// resolve_tcp sets *out to the first address host resolves to, with port.
Status resolve_tcp(const std::string& host, std::uint16_t port, Address* out);

// resolve_unix sets *out to the UNIX socket at path.
Status resolve_unix(const std::string& path, Address* out);

// connect_start creates a non-blocking close-on-exec socket, with Nagle off
// for TCP, and starts connecting it to address. *fd is set on success, and
// *in_progress says whether the connection is still being made: the socket
// turns writable when it is done, and the first write reports any failure.
// A UNIX socket whose backlog is full fails with kBusy: try again later.
Status connect_start(const Address& address, int* fd, bool* in_progress);

// send_all writes all of data, looping over partial writes, without SIGPIPE.
Status send_all(int fd, const char* data, std::size_t length);

// send_waiting writes all of data to a socket without blocking in send
// (MSG_DONTWAIT, so the socket may block for reads), waiting in poll while
// the peer's receive window is full, at most timeout_ms (0: without end)
// each time; kTimeout when the peer read nothing for that long. before_wait,
// if set, is called before each such wait.
Status send_waiting(int fd, std::string_view data, int timeout_ms, const std::function<void()>& before_wait = {});

// set_nodelay turns off Nagle's algorithm: replies are whole messages.
void set_nodelay(int fd);

// peer_name returns "address:port" of a connected socket's peer, for logs;
// local_name the same of the socket's own address.
std::string peer_name(int fd);
std::string local_name(int fd);

// format_address returns "address:port", with an IPv6 address in brackets.
std::string format_address(const std::string& address, std::uint16_t port);

}  // namespace shmkv::net
