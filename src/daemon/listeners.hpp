// Listeners: the sockets shmkvd accepts on, each with the protocol it
// speaks. Those systemd passed (socket activation) when there are any, else
// the TCP addresses and UNIX sockets that the options name; and their
// removal at exit.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shmkv/status.hpp"

namespace shmkv::listeners {

// The protocol a listener's connections speak: shmkv's framed JSON, or
// RESP (shmkv-protocol(7), RESP).
enum class Protocol { kJson, kResp };

// kRespFdName is the FileDescriptorName= that marks a socket systemd passes
// as a RESP one (sd_listen_fds_with_names); any other name is JSON.
inline constexpr char kRespFdName[] = "resp";

struct Listener {
  int fd = -1;              // non-blocking, close-on-exec
  Protocol protocol = Protocol::kJson;
  std::string name;         // for logs: "127.0.0.1:4444", "/run/shmkv.sock"
  std::string socket_file;  // a UNIX socket file we created, removed at exit
};

// Config is what the options say to listen on when systemd passes nothing.
struct Config {
  std::string bind;           // a numeric IPv4 or IPv6 address
  std::uint16_t port = 0;     // 0: no TCP
  std::string socket_path;    // a UNIX socket; empty: none
  unsigned socket_mode = 0660;
  int backlog = 511;
  std::uint16_t resp_port = 0;    // RESP on the same address; 0: none
  std::string resp_socket_path;   // a RESP UNIX socket; empty: none
};

// open_all opens every listener; on failure it closes those already open.
// *activated says whether the sockets came from systemd.
Status open_all(const Config& config, std::vector<Listener>* out, bool* activated);

// close_all closes the listeners and removes the socket files we created.
// The parent only: workers keep the listeners to accept on, and the files
// are the parent's to remove.
void close_all(std::vector<Listener>& listeners);

}  // namespace shmkv::listeners
