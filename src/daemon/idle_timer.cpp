#include "daemon/idle_timer.hpp"

#include <sys/timerfd.h>
#include <unistd.h>

#include <ctime>

namespace shmkv::idle_timer {

std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::uint64_t(ts.tv_sec) * 1'000'000'000 + std::uint64_t(ts.tv_nsec);
}

bool set_timer(int timer_fd, std::uint64_t ns, int flags) {
  itimerspec t{};
  t.it_value.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  t.it_value.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  return timerfd_settime(timer_fd, flags, &t, nullptr) == 0;
}

Timer::~Timer() {
  if (fd_ >= 0) close(fd_);
}

bool Timer::arm() {
  if (armed_) return true;
  if (fd_ < 0) fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd_ < 0 || !set_timer(fd_, timeout_ns_)) return false;
  armed_ = true;
  return true;
}

bool Timer::expired(std::uint64_t began_ns) {
  std::uint64_t expirations = 0;
  if (read(fd_, &expirations, sizeof expirations) < 0) return false;  // not expired yet
  const std::uint64_t waited = now_ns() - began_ns;
  if (waited >= timeout_ns_) return true;
  return !set_timer(fd_, timeout_ns_ - waited);  // a timer that cannot be set ends the wait
}

}  // namespace shmkv::idle_timer
