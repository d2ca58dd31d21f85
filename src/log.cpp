#include "shmkv/log.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace shmkv::log {
namespace {

Level g_level = Level::kInfo;  // set once at start-up, inherited by workers

const char* name_of(Level level) {
  switch (level) {
    case Level::kError: return "error";
    case Level::kWarning: return "warning";
    case Level::kInfo: return "info";
    case Level::kDebug: return "debug";
  }
  return "?";
}

}  // namespace

bool parse_level(std::string_view text, Level* out) {
  for (Level l : {Level::kError, Level::kWarning, Level::kInfo, Level::kDebug}) {
    if (text == name_of(l)) {
      *out = l;
      return true;
    }
  }
  return false;
}

void set_level(Level level) { g_level = level; }

bool enabled(Level level) { return level <= g_level; }

void write(Level level, std::string_view message) {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  const std::time_t t = system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  // One write per line, so that lines from many workers do not interleave.
  const std::string line =
      fmt::format("{}.{:03}Z shmkvd[{}] {}: {}\n", stamp, ms, getpid(), name_of(level), message);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace shmkv::log
