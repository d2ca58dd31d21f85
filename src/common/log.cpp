#include "common/log.hpp"

#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include <chrono>
#include <cstdio>

#include <simdjson.h>

namespace shmkv::log {
namespace {

// Both set once at start-up, before any fork, and inherited by the workers.
Level g_level = Level::kInfo;
enum class Sink { kStderr, kJournal, kSyslog } g_sink = Sink::kStderr;

int syslog_priority(Level level) {
  switch (level) {
    case Level::kError: return LOG_ERR;
    case Level::kWarning: return LOG_WARNING;
    case Level::kInfo: return LOG_INFO;
    case Level::kDebug: return LOG_DEBUG;
  }
  return LOG_INFO;
}

const char* name_of(Level level) {
  switch (level) {
    case Level::kError: return "error";
    case Level::kWarning: return "warning";
    case Level::kInfo: return "info";
    case Level::kDebug: return "debug";
  }
  return "?";
}

bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

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

void to_journal_if_connected() {
  // JOURNAL_STREAM is "device:inode" of the stream systemd connected; it is
  // inherited by children whose stderr may go elsewhere, so compare.
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (!stream) return;
  unsigned long long dev = 0, ino = 0;
  struct stat st {};
  if (std::sscanf(stream, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
      st.st_dev == dev && st.st_ino == ino)
    g_sink = Sink::kJournal;
}

void to_syslog() {
  openlog("shmkvd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
  g_sink = Sink::kSyslog;
}

bool enabled(Level level) { return level <= g_level; }

std::string excerpt(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes.substr(0, 32)) {
    if (c >= 0x20 && c < 0x7f && c != '\\') out.push_back(static_cast<char>(c));
    else out += fmt::format("\\x{:02x}", c);
  }
  return out;
}

void write(Level level, std::string_view message) {
  // One line of text per event, whatever a client put in a key or a
  // request: a control byte (a line break, a terminal escape) is written as
  // \xNN, and so is every byte above 0x7f of a line that is not UTF-8.
  const bool text = simdjson::validate_utf8(message.data(), message.size());
  const auto escape = [text](char c) { return is_control(c) || (!text && static_cast<unsigned char>(c) > 0x7f); };
  std::string escaped;
  if (!text || std::any_of(message.begin(), message.end(), escape)) {
    for (char c : message) {
      if (escape(c)) escaped += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
      else escaped.push_back(c);
    }
    message = escaped;
  }
  if (g_sink == Sink::kSyslog) {
    syslog(syslog_priority(level), "%.*s", static_cast<int>(message.size()), message.data());
    return;
  }
  if (g_sink == Sink::kJournal) {  // the journal adds time and pid itself
    const std::string line = fmt::format("<{}>{}: {}\n", syslog_priority(level), name_of(level), message);
    std::fwrite(line.data(), 1, line.size(), stderr);
    return;
  }
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
}

bool Throttle::pass(std::uint64_t* held) {
  const auto now = std::chrono::steady_clock::now();
  if (now >= window_end_) {
    window_end_ = now + interval_;
    passed_ = 0;
  }
  if (passed_ == burst_) {
    ++held_;
    return false;
  }
  ++passed_;
  *held = held_;
  held_ = 0;
  return true;
}

std::string Throttle::held_note(std::uint64_t held) {
  return held ? fmt::format(" ({} more not logged)", held) : std::string();
}

}  // namespace shmkv::log
