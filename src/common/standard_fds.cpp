#include "common/standard_fds.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace shmkv::standard_fds {

bool open_closed() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    // open returns the lowest free number: fd itself, 0, 1 and 2 being
    // checked in order.
    const int got = open("/dev/null", O_RDWR);
    if (got < 0) return false;
    if (got != fd) {  // cannot happen, as said; refuse rather than guess
      close(got);
      errno = EBADF;
      return false;
    }
  }
  return true;
}

}  // namespace shmkv::standard_fds
