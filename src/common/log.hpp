// Logging for the daemon: one line per event. On stderr with a timestamp, the
// process id and the level; when stderr is systemd's journal, with sd-daemon
// priority prefixes instead; once detached (--daemonize), through syslog.
// Lines below the configured level cost a compare.
#pragma once

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace shmkv::log {

enum class Level { kError = 0, kWarning = 1, kInfo = 2, kDebug = 3 };

// parse_level reads "error", "warning", "info" or "debug"; false if none.
bool parse_level(std::string_view text, Level* out);
void set_level(Level level);

// to_journal_if_connected switches to "<N>message" lines when stderr is the
// journal stream that systemd named in JOURNAL_STREAM.
void to_journal_if_connected();
// to_syslog sends lines to syslog(3) as facility daemon, for a detached daemon.
void to_syslog();
bool enabled(Level level);

// excerpt shows the first 32 bytes of bad input in a log line, escaped.
std::string excerpt(std::string_view bytes);

// write emits one line; use the helpers below.
void write(Level level, std::string_view message);

template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kError)) write(Level::kError, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warning(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kWarning)) write(Level::kWarning, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kInfo)) write(Level::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kDebug)) write(Level::kDebug, fmt::format(f, std::forward<Args>(args)...));
}

// Throttle lets a warning that a client can repeat at will (a write refused
// by a full store, a connection closed for broken framing) out at most burst
// times per interval in each process, so that a client cannot flood the log;
// pass says how many it held back meanwhile.
class Throttle {
 public:
  explicit Throttle(std::chrono::milliseconds interval = std::chrono::seconds(10), int burst = 10)
      : interval_(interval), burst_(burst) {}
  // pass is true when a line may go out now, with *held the number of calls
  // refused since the last that passed.
  bool pass(std::uint64_t* held);
  // held_note is " (N more not logged)" for N > 0, else empty.
  static std::string held_note(std::uint64_t held);
  // warning logs a warning if the throttle lets it out, with held_note.
  template <typename... Args>
  void warning(fmt::format_string<Args...> f, Args&&... args) {
    std::uint64_t held = 0;
    if (enabled(Level::kWarning) && pass(&held))
      write(Level::kWarning, fmt::format(f, std::forward<Args>(args)...) + held_note(held));
  }

 private:
  const std::chrono::milliseconds interval_;
  const int burst_;
  std::chrono::steady_clock::time_point window_end_{};  // of the interval begun
  int passed_ = 0;                                      // in it
  std::uint64_t held_ = 0;
};

}  // namespace shmkv::log
