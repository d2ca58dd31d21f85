#include "loadgen/loadgen.hpp"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fmt/format.h>
#include <string_view>

#include "protocol/frame.hpp"
#include "protocol/json.hpp"

namespace shmkv::loadgen {
namespace {

constexpr std::size_t kReadSize = 16 * 1024;  // initial read buffer per connection; grows for big replies
constexpr std::size_t kMaxReply = std::size_t(64) << 20;
constexpr std::size_t kMaxExamples = 5;
constexpr std::uint64_t kRetryNs = 1'000'000;   // wait before reconnecting after a connection error
constexpr std::uint64_t kTickNs = 250'000'000;  // progress reports and timeout checks
constexpr int kMaxEvents = 256;

std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::uint64_t(ts.tv_sec) * 1'000'000'000 + std::uint64_t(ts.tv_nsec);
}

struct InFlight {
  workload::Request request;
  std::uint64_t sent_ns = 0;
};

// Connection is one client socket with its buffers and the requests it has in
// flight, oldest first, in a ring as deep as the pipeline.
struct Connection {
  enum class State {
    kClosed,         // no socket; waiting in the open queue, or idle at the end
    kConnecting,     // connect() in progress; the first write completes it
    kOpen,           // connected, requests may be in flight
    kAwaitingClose,  // conn mode: the reply is in, the server is to close
  };
  State state = State::kClosed;
  int fd = -1;
  std::uint32_t generation = 0;  // tells a closed socket's stale events from the next one's
  std::vector<char> in;          // the last SIMDJSON_PADDING bytes are never read into
  std::size_t in_begin = 0;
  std::size_t in_end = 0;
  std::string out;
  std::size_t out_sent = 0;
  std::vector<InFlight> ring;
  std::size_t ring_head = 0;
  std::size_t ring_count = 0;
  std::uint64_t last_progress_ns = 0;  // connect, or the last byte sent or received
  std::uint64_t open_at_ns = 0;        // in the open queue: not before this

  std::size_t usable() const { return in.size() - json::kPadding; }
};

// Runner holds one run's state. Each request is counted once in issued_ and,
// when it ends, once in the result: answered (ok, error or wrong reply) or
// unanswered (its connection failed), so issued_ minus both is what is in
// flight, and the run ends when nothing is and no more may be issued.
class Runner {
 public:
  Runner(const Config& config, const volatile std::sig_atomic_t* stop, Result* result)
      : config_(config),
        stop_(stop),
        result_(result),
        generator_(config.workload),
        checker_(generator_.value()),
        version_(config.mode == Mode::kConn ? frame::kVersionOneShot : frame::kVersionPersistent),
        pipeline_(config.mode == Mode::kConn ? 1 : static_cast<std::size_t>(config.pipeline)),
        conns_(static_cast<std::size_t>(config.connections)) {}

  ~Runner() {
    for (Connection& c : conns_)
      if (c.fd >= 0) ::close(c.fd);
    if (epoll_ >= 0) ::close(epoll_);
  }

  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  Status run(const Progress& progress);

 private:
  bool may_issue(std::uint64_t now) const {
    if (*stop_) return false;
    if (config_.stop_on_error && result_->errors() > 0) return false;
    if (config_.requests > 0) return issued_ < config_.requests;
    return now < deadline_;
  }
  std::uint64_t in_flight() const { return issued_ - result_->answered() - result_->unanswered; }

  void open(Connection& c, std::uint64_t now);
  void issue(Connection& c, std::uint64_t now);
  bool flush(Connection& c, std::uint64_t now);
  void on_event(Connection& c, std::uint32_t events, std::uint64_t now);
  void read_replies(Connection& c, bool peer_closed, std::uint64_t now);
  bool take_replies(Connection& c, std::uint64_t now);
  void on_end_of_stream(Connection& c, std::uint64_t now);
  void drop(Connection& c, std::string why, std::uint64_t now);
  void close(Connection& c, std::uint64_t reopen_at);
  void open_due(std::uint64_t now);
  void check_timeouts(std::uint64_t now);
  void note(std::string why);
  int wait_ms(std::uint64_t now) const;
  std::size_t index(const Connection& c) const { return static_cast<std::size_t>(&c - conns_.data()); }

  const Config& config_;
  const volatile std::sig_atomic_t* stop_;
  Result* result_;
  workload::Generator generator_;
  workload::Checker checker_;
  const std::int32_t version_;
  const std::size_t pipeline_;
  std::vector<Connection> conns_;
  std::vector<std::size_t> open_queue_;  // closed connections to (re)open
  std::vector<std::size_t> due_;         // scratch for open_due
  int epoll_ = -1;
  std::uint64_t issued_ = 0;
  std::uint64_t awaiting_close_ = 0;  // connections in kAwaitingClose
  std::uint64_t deadline_ = 0;        // with config_.requests == 0
  std::string why_;                   // scratch for the checker's verdicts
};

void Runner::note(std::string why) {
  if (result_->examples.size() >= kMaxExamples) return;
  if (std::find(result_->examples.begin(), result_->examples.end(), why) != result_->examples.end()) return;
  result_->examples.push_back(std::move(why));
}

// issue fills the connection's pipeline from the workload, each request
// stamped with the time it is handed to the socket.
void Runner::issue(Connection& c, std::uint64_t now) {
  while (c.ring_count < pipeline_ && may_issue(now)) {
    const workload::Request r = generator_.next(version_, c.out);
    c.ring[(c.ring_head + c.ring_count) % pipeline_] = InFlight{r, now};
    ++c.ring_count;
    ++issued_;
  }
}

// open starts a connection with its first requests already buffered: in conn
// mode the one request it carries, in keep mode a full pipeline. A connection
// that fails counts as one error, and the requests it carried as unanswered.
void Runner::open(Connection& c, std::uint64_t now) {
  if (c.ring.empty()) {
    c.ring.resize(pipeline_);
    c.in.resize(kReadSize + json::kPadding);
    c.out.reserve(kReadSize);
  }
  issue(c, now);
  if (c.ring_count == 0) return;  // nothing more to send: stays closed
  ++c.generation;
  bool in_progress = false;
  int fd = -1;
  if (Status s = net::connect_start(config_.address, &fd, &in_progress); !s) {
    if (s.code() == Status::Code::kBusy) {  // a UNIX socket's full backlog: not an error, retry
      issued_ -= c.ring_count;
      c.ring_count = 0;
      c.out.clear();
      c.open_at_ns = now + kRetryNs;
      open_queue_.push_back(index(c));
      return;
    }
    drop(c, s.message(), now);
    return;
  }
  c.fd = fd;
  c.state = in_progress ? Connection::State::kConnecting : Connection::State::kOpen;
  c.last_progress_ns = now;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = (std::uint64_t(c.generation) << 32) | index(c);
  if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) < 0) {
    drop(c, errno_text("epoll_ctl", errno), now);
    return;
  }
  // On loopback the handshake is usually done by now; if not, the write
  // fails with EAGAIN and the socket's turning writable brings us back.
  flush(c, now);
}

// flush writes what is buffered; false when that dropped the connection.
bool Runner::flush(Connection& c, std::uint64_t now) {
  while (c.out_sent < c.out.size()) {
    const ssize_t n = send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_sent += static_cast<std::size_t>(n);
      c.last_progress_ns = now;
      if (c.state == Connection::State::kConnecting) c.state = Connection::State::kOpen;
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || (errno == ENOTCONN && c.state == Connection::State::kConnecting)) return true;
    drop(c, errno_text("write to " + config_.address.text, errno), now);
    return false;
  }
  c.out.clear();
  c.out_sent = 0;
  return true;
}

void Runner::on_event(Connection& c, std::uint32_t events, std::uint64_t now) {
  if ((events & EPOLLOUT) && c.out_sent < c.out.size() && !flush(c, now)) return;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
    read_replies(c, (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0, now);
}

// read_replies reads until the socket is drained: with edge-triggered epoll a
// read shorter than the room offered proves it, and data arriving later
// raises a new event. Not so an end of stream that came with the data, before
// the event was reported (peer_closed): no new event will tell of it, so
// then we read on until recv returns 0.
void Runner::read_replies(Connection& c, bool peer_closed, std::uint64_t now) {
  for (;;) {
    if (c.in_end == c.usable()) {
      if (c.in_begin > 0) {
        std::memmove(c.in.data(), c.in.data() + c.in_begin, c.in_end - c.in_begin);
        c.in_end -= c.in_begin;
        c.in_begin = 0;
      } else {
        // One reply larger than the buffer (decode bounds it by kMaxReply).
        c.in.resize(c.usable() * 2 + json::kPadding);
      }
    }
    const std::size_t room = c.usable() - c.in_end;
    const ssize_t n = recv(c.fd, c.in.data() + c.in_end, room, 0);
    if (n > 0) {
      const std::uint64_t arrived = now_ns();
      c.in_end += static_cast<std::size_t>(n);
      c.last_progress_ns = arrived;
      if (!take_replies(c, arrived)) return;
      if (static_cast<std::size_t>(n) < room && !peer_closed) return;
      continue;
    }
    if (n == 0) {
      on_end_of_stream(c, now);
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return;
    if (errno == ECONNRESET && c.state == Connection::State::kAwaitingClose) {
      close(c, now);  // closed, if abruptly, after the whole reply
      return;
    }
    drop(c, errno_text("read from " + config_.address.text, errno), now);
    return;
  }
}

// take_replies checks every whole reply buffered, oldest request first, and
// in keep mode sends the next requests; false when the connection was closed.
bool Runner::take_replies(Connection& c, std::uint64_t now) {
  for (;;) {
    const std::string_view buffered(c.in.data() + c.in_begin, c.in_end - c.in_begin);
    const frame::DecodeResult m = frame::decode(buffered, kMaxReply);
    if (m.what == frame::Decoded::kNeedMore) break;
    if (c.ring_count == 0) {
      drop(c,
           c.state == Connection::State::kAwaitingClose
               ? fmt::format("{} sent more after answering a version-1 request", config_.address.text)
               : fmt::format("{} sent a reply to no request", config_.address.text),
           now);
      return false;
    }
    const InFlight f = c.ring[c.ring_head];
    c.ring_head = (c.ring_head + 1) % pipeline_;
    --c.ring_count;
    if (m.what == frame::Decoded::kBadHeader) {
      ++result_->wrong_replies;
      note(fmt::format("bad reply header from {}: {}", config_.address.text, m.error));
      close(c, now);  // the framing is lost; the requests behind it go unanswered
      return false;
    }
    c.in_begin += m.consumed;
    workload::Verdict verdict = workload::Verdict::kWrong;
    if (m.version != version_)
      why_ = fmt::format("reply of version {} to a version-{} request", m.version, version_);
    else
      verdict = checker_.check(f.request, m.body, &why_);
    switch (verdict) {
      case workload::Verdict::kOk:
        ++result_->ok;
        result_->latency.record(now - f.sent_ns);
        break;
      case workload::Verdict::kErrorReply:
        ++result_->error_replies;
        note(why_);
        break;
      case workload::Verdict::kWrong:
        ++result_->wrong_replies;
        note(why_);
        break;
    }
    if (version_ == frame::kVersionOneShot) {
      c.state = Connection::State::kAwaitingClose;
      ++awaiting_close_;
    }
  }
  if (c.in_begin == c.in_end) c.in_begin = c.in_end = 0;
  if (version_ == frame::kVersionPersistent) {
    issue(c, now);
    return flush(c, now);
  }
  return true;
}

void Runner::on_end_of_stream(Connection& c, std::uint64_t now) {
  if (c.state == Connection::State::kAwaitingClose) {
    close(c, now);
  } else if (c.ring_count > 0) {
    drop(c, fmt::format("{} closed the connection with {} request(s) unanswered", config_.address.text,
                        c.ring_count),
         now);
  } else {
    drop(c, fmt::format("{} closed a persistent connection", config_.address.text), now);
  }
}

// drop counts a connection error and closes the connection; it is reopened
// after a pause, so that a server that refuses does not make us spin.
void Runner::drop(Connection& c, std::string why, std::uint64_t now) {
  ++result_->connection_errors;
  note(std::move(why));
  close(c, now + kRetryNs);
}

// close closes the socket, counts what was still in flight as unanswered, and
// puts the connection in the open queue.
void Runner::close(Connection& c, std::uint64_t reopen_at) {
  if (c.fd >= 0) ::close(c.fd);  // also removes it from the epoll set
  c.fd = -1;
  if (c.state == Connection::State::kAwaitingClose) --awaiting_close_;
  c.state = Connection::State::kClosed;
  result_->unanswered += c.ring_count;
  c.ring_count = 0;
  c.in_begin = c.in_end = 0;
  c.out.clear();
  c.out_sent = 0;
  c.open_at_ns = reopen_at;
  open_queue_.push_back(index(c));
}

void Runner::open_due(std::uint64_t now) {
  due_.swap(open_queue_);
  for (std::size_t i : due_) {
    Connection& c = conns_[i];
    if (c.open_at_ns > now) open_queue_.push_back(i);
    else if (may_issue(now)) open(c, now);
  }
  due_.clear();
}

void Runner::check_timeouts(std::uint64_t now) {
  const std::uint64_t limit = std::uint64_t(config_.timeout_ms) * 1'000'000;
  for (Connection& c : conns_) {
    if (c.fd < 0 || now - c.last_progress_ns <= limit) continue;
    const double seconds = config_.timeout_ms / 1000.0;
    if (c.state == Connection::State::kAwaitingClose)
      drop(c, fmt::format("{} did not close the connection within {} s of answering a version-1 request",
                          config_.address.text, seconds),
           now);
    else if (c.state == Connection::State::kConnecting)
      drop(c, fmt::format("connect {}: no answer within {} s", config_.address.text, seconds), now);
    else if (c.ring_count > 0)
      drop(c, fmt::format("no reply from {} within {} s", config_.address.text, seconds), now);
  }
}

int Runner::wait_ms(std::uint64_t now) const {
  std::uint64_t wake = now + kTickNs;
  if (!open_queue_.empty()) wake = std::min(wake, now + kRetryNs);
  if (config_.requests == 0 && now < deadline_) wake = std::min(wake, deadline_);
  return static_cast<int>((wake - now + 999'999) / 1'000'000);
}

Status Runner::run(const Progress& progress) {
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_ < 0) return Status::io(errno_text("epoll_create1", errno));
  std::uint64_t now = now_ns();
  const std::uint64_t start = now;
  deadline_ = start + static_cast<std::uint64_t>(config_.seconds * 1e9);
  for (Connection& c : conns_) open(c, now);
  std::uint64_t next_tick = start + kTickNs;
  epoll_event events[kMaxEvents];
  while (may_issue(now) || in_flight() > 0 || awaiting_close_ > 0) {
    const int n = epoll_wait(epoll_, events, kMaxEvents, wait_ms(now));
    if (n < 0 && errno != EINTR) return Status::io(errno_text("epoll_wait", errno));
    for (int i = 0; i < n; ++i) {
      Connection& c = conns_[events[i].data.u64 & 0xffffffff];
      if (c.fd < 0 || c.generation != events[i].data.u64 >> 32) continue;  // closed since
      on_event(c, events[i].events, now_ns());
    }
    now = now_ns();
    open_due(now);
    if (now >= next_tick) {
      check_timeouts(now);
      if (progress) progress(*result_, static_cast<double>(now - start) / 1e9);
      next_tick = now + kTickNs;
    }
  }
  result_->seconds = static_cast<double>(now - start) / 1e9;
  return Status::ok();
}

// probe connects once, waiting at most timeout_ms, so that a server that is
// not there is reported as such before the run instead of as errors in it.
Status probe(const net::Address& address, int timeout_ms) {
  bool in_progress = false;
  int fd = -1;
  Status s = net::connect_start(address, &fd, &in_progress);
  if (s.code() == Status::Code::kBusy) return Status::ok();  // someone is accepting
  if (!s) return s;
  int err = 0;
  if (in_progress) {
    pollfd p{fd, POLLOUT, 0};
    int ready;
    do ready = poll(&p, 1, timeout_ms > 0 ? timeout_ms : -1);
    while (ready < 0 && errno == EINTR);
    if (ready == 0) err = ETIMEDOUT;
    else if (ready < 0) err = errno;
    else {
      socklen_t len = sizeof err;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    }
  }
  ::close(fd);
  if (err != 0) return Status::io(errno_text("connect " + address.text, err));
  return Status::ok();
}

}  // namespace

Status run(const Config& config, const volatile std::sig_atomic_t* stop, const Progress& progress,
           Result* result) {
  if (Status s = probe(config.address, config.timeout_ms); !s) return s;
  Runner runner(config, stop, result);
  return runner.run(progress);
}

}  // namespace shmkv::loadgen
