// The client library against a fake server in a thread, which answers each
// request with scripted bytes: replies that break the protocol, a server that
// stops answering or closes, pages of keys that break their promises. Tests
// against the real shmkvd are in test/shell/.
#include "shmkv/client.hpp"

#include <doctest/doctest.h>

#include "check_ok.hpp"
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <mutex>
#include <thread>
#include <vector>

#include "protocol/frame.hpp"
#include "common/net.hpp"

using namespace shmkv;

namespace {

// What the fake server does with one request.
struct Answer {
  std::string bytes;   // sent as they are
  bool close = false;  // then close the connection
};

Answer reply(std::string_view body) {
  std::string out;
  frame::append(out, frame::kVersionPersistent, body);
  return Answer{out};
}

Answer ok(std::string_view func, std::string_view response) {
  return reply(fmt::format(R"({{"status": "OK", "response": {{"func": "{}", "response": {}}}}})", func, response));
}

// listen_loopback listens on a free port of 127.0.0.1 and returns that port.
std::uint16_t listen_loopback(int* fd) {
  REQUIRE_OK(net::listen_tcp("127.0.0.1", 0, 8, fd));
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  getsockname(*fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

// FakeServer listens on a free loopback port and serves one connection at a
// time, answering each whole request body with answer(body).
class FakeServer {
 public:
  explicit FakeServer(std::function<Answer(std::string_view body)> answer) : answer_(std::move(answer)) {
    port_ = listen_loopback(&listen_fd_);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeServer() {
    stop_ = true;
    thread_.join();
    close(listen_fd_);
  }

  client::Endpoint endpoint(int timeout_ms = 2000) const {
    client::Endpoint e;
    e.port = port_;
    e.timeout_ms = timeout_ms;
    return e;
  }
  int connections() const { return connections_; }

 private:
  // wait waits up to 20 ms for fd to be readable, so that stop_ is seen.
  static bool wait(int fd) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, 20) > 0;
  }

  void serve() {
    while (!stop_) {
      if (!wait(listen_fd_)) continue;
      const int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      ++connections_;
      std::string in;
      bool open = true;
      while (open && !stop_) {
        if (!wait(fd)) continue;
        char buffer[4096];
        const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        in.append(buffer, static_cast<std::size_t>(n));
        for (;;) {
          const frame::DecodeResult m = frame::decode(in, frame::kDefaultMaxMessage);
          if (m.what != frame::Decoded::kMessage) break;
          const Answer a = answer_(m.body);
          in.erase(0, m.consumed);
          if (!a.bytes.empty()) net::send_all(fd, a.bytes.data(), a.bytes.size());
          if (a.close) {
            open = false;
            break;
          }
        }
      }
      close(fd);
    }
  }

  std::function<Answer(std::string_view)> answer_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

std::unique_ptr<client::Client> connect(const FakeServer& server, int timeout_ms = 2000) {
  std::unique_ptr<client::Client> c;
  REQUIRE_OK(client::Client::connect(server.endpoint(timeout_ms), &c));
  return c;
}

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("client: a batch refuses what it cannot send, before sending") {
  client::Batch batch;
  CHECK(batch.put("k", "{\"a\": 01}").message() == "malformed JSON at byte 6: bad number");
  CHECK(batch.put("k", "").code() == Status::Code::kInvalid);
  CHECK(batch.get(std::string("\xff", 1)).message() == "the key is not valid UTF-8");
  CHECK(batch.call("F", "{").code() == Status::Code::kInvalid);
  CHECK(batch.size() == 0);
  CHECK_OK(batch.put("k", " [1, 2] "));
  CHECK(batch.size() == 1);
}

TEST_CASE("client: typed calls read the server's replies") {
  FakeServer server([](std::string_view body) {
    if (contains(std::string(body), R"("func": "GET", "params": {"obj": "here"})"))
      return ok("GET", R"({"obj": "here", "val": {"a": [1.0, "x"]}})");
    if (contains(std::string(body), R"("func": "GET")")) return ok("GET", R"({"obj": "gone", "val": null})");
    if (contains(std::string(body), R"("func": "PUT")")) return ok("PUT", R"({"obj": "k", "response": "ok"})");
    if (contains(std::string(body), R"("obj": "here")")) return ok("DELETE", R"({"obj": "here", "response": "ok"})");
    if (contains(std::string(body), R"("func": "DELETE")"))
      return ok("DELETE", R"({"obj": "gone", "response": "not found"})");
    if (contains(std::string(body), R"("func": "STATS")")) return ok("STATS", R"({"keys": 2, "version": "0.1.0"})");
    return reply(R"({"status": "ERROR", "error": "store is full"})");
  });
  auto c = connect(server);
  std::string value;
  REQUIRE_OK(c->get("here", &value));
  CHECK(value == R"({"a": [1.0, "x"]})");
  const Status absent = c->get("gone", &value);
  CHECK(absent.is_not_found());
  CHECK(absent.message() == R"("gone" is not set)");
  CHECK_OK(c->put("k", "1"));
  CHECK_OK(c->del("here"));
  CHECK(c->del("gone").is_not_found());
  std::vector<client::Stat> stats;
  REQUIRE_OK(c->stats(&stats));
  REQUIRE(stats.size() == 2);
  CHECK(stats[0].name == "keys");
  CHECK(stats[0].value == "2");
  CHECK(stats[1].value == "\"0.1.0\"");
  std::string reply_body;
  const Status refused = c->call("OTHER", "{}", &reply_body);
  CHECK(refused.code() == Status::Code::kServer);
  CHECK(contains(refused.message(), "refused OTHER: store is full"));
  CHECK(reply_body == R"({"status": "ERROR", "error": "store is full"})");
  CHECK(server.connections() == 1);
}

TEST_CASE("client: a function the server does not know is an error, not an empty result") {
  FakeServer server([](std::string_view) {
    return ok("KEYS", R"("ERROR - Function doesn't exist")");
  });
  auto c = connect(server);
  client::KeysPage page;
  const Status s = c->keys("", std::nullopt, 0, &page);
  CHECK(s.code() == Status::Code::kServer);
  CHECK(contains(s.message(), "does not know KEYS"));
}

TEST_CASE("client: replies that break the protocol are kCorrupt") {
  std::string answer;
  FakeServer server([&](std::string_view) { return Answer{answer}; });
  auto check = [&](std::string bytes, std::string_view expected) {
    answer = std::move(bytes);
    auto c = connect(server);
    std::string value;
    const Status s = c->get("k", &value);
    CAPTURE(s.message());
    CAPTURE(expected);
    CAPTURE(value);
    CHECK(s.code() == Status::Code::kCorrupt);
    CHECK(contains(s.message(), expected));
  };
  check(reply("not json").bytes, "no status");
  check(reply(R"({"status": "OK"})").bytes, "no response");
  check(ok("PUT", R"({"obj": "k", "response": "ok"})").bytes, "a PUT reply to GET");
  check(ok("GET", R"({"obj": "k"})").bytes, "no value");
  std::string v1;
  frame::append(v1, frame::kVersionOneShot, "{}");
  check(v1, "answered in version 1");
  check(std::string("\x07\0\0\0\0\0\0\0", 8), "unsupported protocol version 7");
}

TEST_CASE("client: a page of keys must keep the promises that make paging end") {
  std::string page_json;
  FakeServer server([&](std::string_view) { return ok("KEYS", page_json); });
  auto c = connect(server);
  client::KeysPage page;
  page_json = R"({"keys": ["a1", "a2"], "more": true})";
  REQUIRE_OK(c->keys("a", std::nullopt, 2, &page));
  CHECK(page.keys == std::vector<std::string>{"a1", "a2"});
  CHECK(page.more);
  for (auto [bad, why] : {std::pair{R"({"keys": ["a2", "a1"], "more": false})", "out of order"},
                          std::pair{R"({"keys": ["a1", "b"], "more": false})", "without the prefix"},
                          std::pair{R"({"keys": [], "more": true})", "empty page"},
                          std::pair{R"({"keys": ["a1"]})", "no more"}}) {
    page_json = bad;
    const Status s = c->keys("a", std::nullopt, 0, &page);
    CAPTURE(s.message());
    CHECK(s.code() == Status::Code::kCorrupt);
    CHECK(contains(s.message(), why));
  }
  page_json = R"({"keys": ["a1"], "more": false})";
  CHECK(c->keys("a", "a1", 0, &page).code() == Status::Code::kCorrupt);  // not after "a1"
}

TEST_CASE("client: a server that stops answering is a timeout, then the next call reconnects") {
  std::atomic<int> requests{0};
  FakeServer server([&](std::string_view) {
    if (requests++ == 0) return Answer{};  // the first request is never answered
    return ok("GET", R"({"obj": "k", "val": 1})");
  });
  auto c = connect(server, 200);
  std::string value;
  const auto start = std::chrono::steady_clock::now();
  const Status s = c->get("k", &value);
  CHECK(s.code() == Status::Code::kTimeout);
  CHECK(contains(s.message(), "no reply from 127.0.0.1:"));
  CHECK(contains(s.message(), "within 0.2 s"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  REQUIRE_OK(c->get("k", &value));
  CHECK(value == "1");
  CHECK(server.connections() == 2);
}

TEST_CASE("client: a server that closes in the middle of a reply is an error, not a hang") {
  FakeServer server([](std::string_view) {
    Answer a = ok("GET", R"({"obj": "k", "val": "a long value"})");
    a.bytes.resize(a.bytes.size() / 2);
    a.close = true;
    return a;
  });
  auto c = connect(server);
  std::string value;
  const Status s = c->get("k", &value);
  CHECK(s.code() == Status::Code::kIo);
  CHECK(contains(s.message(), "closed the connection in the middle of a reply"));
}

TEST_CASE("client: a batch gets its replies in order, and a lost connection says how far it got") {
  std::atomic<int> n{0};
  FakeServer server([&](std::string_view body) {
    const int i = n++;
    if (i == 3) return Answer{"", true};
    const auto at = std::string(body).find("\"obj\": ");
    return ok("GET", fmt::format(R"({{"obj": 0, "val": {}}})", std::string(body).substr(at + 7, 5)));
  });
  auto c = connect(server);
  client::Batch batch;
  for (int i = 0; i < 5; ++i) REQUIRE_OK(batch.get(fmt::format("k{:02}", i)));
  std::vector<client::Result> results;
  const Status s = c->run(batch, &results);
  CHECK(s.code() == Status::Code::kIo);
  CHECK(contains(s.message(), "closed the connection after 3 of 5 replies"));
  REQUIRE(results.size() == 3);
  for (int i = 0; i < 3; ++i) CHECK(results[i].text == fmt::format("\"k{:02}\"", i));
}

TEST_CASE("client: connecting to a port where nothing listens names the address") {
  int fd = -1;
  client::Endpoint e;
  e.port = listen_loopback(&fd);
  close(fd);  // the port is free now, and nothing listens on it
  std::unique_ptr<client::Client> c;
  const Status s = client::Client::connect(e, &c);
  CHECK(s.code() == Status::Code::kIo);
  CHECK(s.message() == fmt::format("connect 127.0.0.1:{}: Connection refused", e.port));
  CHECK(c == nullptr);
}

TEST_CASE("client: put with options, incr, expire and ttl send their params and read their replies") {
  std::vector<std::string> seen;
  std::mutex seen_mutex;
  FakeServer server([&](std::string_view body) {
    {
      std::lock_guard<std::mutex> hold(seen_mutex);
      seen.emplace_back(body);
    }
    const std::string b(body);
    if (contains(b, R"("if": "absent")")) return ok("PUT", R"({"obj": "k", "response": "not stored"})");
    if (contains(b, R"("func": "PUT")")) return ok("PUT", R"({"obj": "k", "response": "ok"})");
    if (contains(b, R"("func": "INCR")")) return ok("INCR", R"({"obj": "n", "val": -9223372036854775808})");
    if (contains(b, R"("obj": "gone")") && contains(b, "EXPIRE"))
      return ok("EXPIRE", R"({"obj": "gone", "response": "not found"})");
    if (contains(b, R"("func": "EXPIRE")")) return ok("EXPIRE", R"({"obj": "k", "response": "ok"})");
    if (contains(b, R"("obj": "gone")")) return ok("TTL", R"({"obj": "gone", "ttl": -2})");
    if (contains(b, R"("obj": "forever")")) return ok("TTL", R"({"obj": "forever", "ttl": -1})");
    return ok("TTL", R"({"obj": "k", "ttl": 9.998})");
  });
  auto c = connect(server);
  bool stored = false;
  client::PutOptions options;
  options.ttl_ms = 1500;
  REQUIRE_OK(c->put("k", "1", options, &stored));
  CHECK(stored);
  options.condition = client::Condition::kIfAbsent;
  REQUIRE_OK(c->put("k", "1", options, &stored));
  CHECK_FALSE(stored);
  std::int64_t n = 0;
  REQUIRE_OK(c->incr("n", -5, &n));
  CHECK(n == INT64_MIN);
  CHECK_OK(c->expire("k", 60000));
  CHECK_OK(c->expire("k", 0));
  CHECK(c->expire("gone", 1000).is_not_found());
  std::int64_t ms = 0;
  REQUIRE_OK(c->ttl("k", &ms));
  CHECK(ms == 9998);
  REQUIRE_OK(c->ttl("forever", &ms));
  CHECK(ms == -1);
  CHECK(c->ttl("gone", &ms).is_not_found());
  // Refused before sending: a ttl out of range.
  options.ttl_ms = client::kMaxTtlMs + 1;
  CHECK(c->put("k", "1", options, &stored).code() == Status::Code::kInvalid);
  CHECK(c->expire("k", -1).code() == Status::Code::kInvalid);

  std::lock_guard<std::mutex> hold(seen_mutex);
  REQUIRE(seen.size() == 9);
  CHECK(seen[0] == R"({"func": "PUT", "params": {"obj": "k", "val": 1, "ttl": 1.500}})");
  CHECK(seen[1] == R"({"func": "PUT", "params": {"obj": "k", "val": 1, "ttl": 1.500, "if": "absent"}})");
  CHECK(seen[2] == R"({"func": "INCR", "params": {"obj": "n", "by": -5}})");
  CHECK(seen[3] == R"({"func": "EXPIRE", "params": {"obj": "k", "ttl": 60.000}})");
  CHECK(seen[4] == R"({"func": "EXPIRE", "params": {"obj": "k", "ttl": null}})");
  CHECK(seen[6] == R"({"func": "TTL", "params": {"obj": "k"}})");
}

TEST_CASE("client: get_typed reads a value with its kind; put_bytes sends base64") {
  std::vector<std::string> seen;
  std::mutex seen_mutex;
  FakeServer server([&](std::string_view body) {
    const std::string b(body);
    {
      std::lock_guard<std::mutex> hold(seen_mutex);
      seen.push_back(b);
    }
    if (contains(b, R"("func": "PUT")")) return ok("PUT", R"({"obj": "b", "response": "ok"})");
    if (contains(b, R"("obj": "bin")")) return ok("GET", R"({"obj": "bin", "bytes": "/wAK", "kind": "bytes"})");
    if (contains(b, R"("obj": "json")")) return ok("GET", R"({"obj": "json", "val": [1,  2], "kind": "json"})");
    if (contains(b, R"("obj": "null")")) return ok("GET", R"({"obj": "null", "val": null, "kind": "json"})");
    if (contains(b, R"("obj": "old")")) return ok("GET", R"({"obj": "old", "val": "text"})");  // before the extension
    if (contains(b, R"("obj": "bad")")) return ok("GET", R"({"obj": "bad", "bytes": "/wA", "kind": "bytes"})");
    return ok("GET", R"({"obj": "gone", "val": null, "kind": null})");
  });
  auto c = connect(server);
  std::string value;
  bool bytes = false;
  REQUIRE_OK(c->get_typed("bin", &value, &bytes));
  CHECK(value == std::string("\xff\x00\n", 3));
  CHECK(bytes);
  REQUIRE_OK(c->get_typed("json", &value, &bytes));
  CHECK(value == "[1,  2]");
  CHECK_FALSE(bytes);
  REQUIRE_OK(c->get_typed("null", &value, &bytes));  // a stored null is found
  CHECK(value == "null");
  CHECK(c->get_typed("gone", &value, &bytes).is_not_found());
  REQUIRE_OK(c->get_typed("old", &value, &bytes));
  CHECK(value == "\"text\"");
  CHECK_FALSE(bytes);
  CHECK(c->get_typed("bad", &value, &bytes).code() == Status::Code::kCorrupt);
  bool stored = false;
  client::PutOptions options;
  options.ttl_ms = 2000;
  REQUIRE_OK(c->put_bytes("b", std::string("\x00\xfe", 2), options, &stored));
  CHECK(stored);
  std::lock_guard<std::mutex> hold(seen_mutex);
  REQUIRE(seen.size() == 7);
  CHECK(seen[0] == R"({"func": "GET", "params": {"obj": "bin", "encoding": "base64"}})");
  CHECK(seen[6] == R"({"func": "PUT", "params": {"obj": "b", "bytes": "AP4=", "ttl": 2.000}})");
}
