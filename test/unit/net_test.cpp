#include "common/net.hpp"

#include <doctest/doctest.h>

#include "check_ok.hpp"
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

using namespace shmkv;

namespace {

// A listening UNIX socket in a fresh temporary directory, removed afterwards.
struct UnixListener {
  std::string dir;
  std::string path;
  int fd = -1;

  UnixListener() {
    char tmpl[] = "/tmp/shmkv-net-test.XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    path = dir + "/sock";
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, path.size());
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(listen(fd, 8) == 0);
  }
  ~UnixListener() {
    close(fd);
    unlink(path.c_str());
    rmdir(dir.c_str());
  }
};

}  // namespace

TEST_CASE("net::connect_unix connects to a listening UNIX socket") {
  UnixListener listener;
  int fd = -1;
  REQUIRE_OK(net::connect_unix(listener.path, 1000, &fd));
  const int peer = accept(listener.fd, nullptr, nullptr);
  REQUIRE(peer >= 0);
  CHECK(send(fd, "x", 1, 0) == 1);
  char c = 0;
  CHECK(recv(peer, &c, 1, 0) == 1);
  CHECK(c == 'x');
  close(peer);
  close(fd);
}

TEST_CASE("net::connect_unix names the path when it fails") {
  int fd = -1;
  const Status missing = net::connect_unix("/nonexistent/shmkv.sock", 1000, &fd);
  CHECK(missing.code() == Status::Code::kIo);
  CHECK(missing.message() == "connect /nonexistent/shmkv.sock: No such file or directory");
  CHECK(fd == -1);

  const Status too_long = net::connect_unix("/tmp/" + std::string(200, 'x'), 1000, &fd);
  CHECK(too_long.code() == Status::Code::kInvalid);
  CHECK(too_long.message().find("1 to 107 bytes") != std::string::npos);
  CHECK(net::connect_unix("", 1000, &fd).code() == Status::Code::kInvalid);
}
