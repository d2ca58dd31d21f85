// Tests of src/resp/commands.cpp, glob.cpp and value_mapping.cpp: commands
// answered by a Session over a real store, in Redis's replies and words.
#include "resp/commands.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "check_ok.hpp"
#include "resp/glob.hpp"
#include "resp/parser.hpp"
#include "resp/value_mapping.hpp"

using namespace shmkv;

namespace {

struct Harness {
  std::string name = fmt::format("shmkv-resp-{}", getpid());
  std::unique_ptr<store::Store> store;
  scoreboard::Scoreboard* board = scoreboard::Scoreboard::create(8);
  std::unique_ptr<resp::Keyspace> keyspace;
  std::string out;
  std::unique_ptr<resp::Session> session;
  std::int64_t now = 1'700'000'000'000;  // the clock of the store and of EXPIREAT, in ms, moved by hand

  Harness() {
    store::Store::remove(name);
    REQUIRE_OK(store::Store::open(name, 4 << 20, &store));
    store->set_clock([this] { return now; });
    keyspace = std::make_unique<resp::Keyspace>(*store, *board, nullptr);
    keyspace->set_clock([this] { return now; });
    session = std::make_unique<resp::Session>(*keyspace, resp::Session::Config{6379, 16}, out);
    session->begin();
  }
  ~Harness() { store::Store::remove(name); }

  std::string call(std::vector<std::string> args) { return pipeline({std::move(args)}); }

  // pipeline answers commands as one read of a pipelining client's: each
  // executed in turn, then one flush.
  std::string pipeline(std::vector<std::vector<std::string>> commands) {
    out.clear();
    for (const std::vector<std::string>& args : commands) {
      const std::vector<std::string_view> views(args.begin(), args.end());
      session->execute(views);
    }
    session->flush();
    return out;
  }
};

// scan_all runs a SCAN to its end with COUNT count, calling between(i)
// before the i-th call, and returns every key it gave.
template <typename F>
std::multiset<std::string> scan_all(Harness& h, int count, F between) {
  std::multiset<std::string> seen;
  std::string cursor = "0";
  for (int i = 0; i < 100000; ++i) {
    between(i);
    const std::string reply = h.call({"SCAN", cursor, "COUNT", std::to_string(count)});
    // *2\r\n$N\r\nCURSOR\r\n*M\r\n($L\r\nKEY\r\n)*
    std::size_t p = reply.find("\r\n", 4) + 2;
    const std::size_t e = reply.find("\r\n", p);
    cursor = reply.substr(p, e - p);
    p = reply.find("\r\n", e + 2) + 2;
    while (p < reply.size()) {
      const std::size_t le = reply.find("\r\n", p);
      const std::size_t len = std::stoul(reply.substr(p + 1, le - p - 1));
      seen.insert(reply.substr(le + 2, len));
      p = le + 2 + len + 2;
    }
    if (cursor == "0") return seen;
  }
  FAIL("SCAN did not finish");
  return seen;
}

}  // namespace

TEST_CASE("command names match in any case, and only whole") {
  Harness h;
  CHECK(h.call({"SeT", "k", "v"}) == "+OK\r\n");
  CHECK(h.call({"gEt", "k"}) == "$1\r\nv\r\n");
  CHECK(h.call({"UNLINK", "nope"}) == ":0\r\n");  // the table's last name
  CHECK(h.call({"APPEND", "k", "w"}) == ":2\r\n");  // and its first
  // A NUL, a prefix, a longer name and one beyond 16 bytes are unknown.
  CHECK(h.call({std::string("get\0", 4), "k"}) == "-ERR unknown command 'get', with args beginning with: 'k' \r\n");
  CHECK(h.call({"ge", "k"}) == "-ERR unknown command 'ge', with args beginning with: 'k' \r\n");
  CHECK(h.call({"gets", "k"}) == "-ERR unknown command 'gets', with args beginning with: 'k' \r\n");
  CHECK(h.call({"randomkeyrandomkey", "k"}) ==
        "-ERR unknown command 'randomkeyrandomkey', with args beginning with: 'k' \r\n");
  CHECK(h.call({"G\xc5T", "k"}).starts_with("-ERR unknown command"));
}

TEST_CASE("a pipeline of SETs and GETs answers each in order, errors in their places") {
  Harness h;
  const std::string big(5000, 'b');  // over what a SET may be held back with: it goes alone
  std::vector<std::vector<std::string>> commands = {
      {"SET", "a", "1"}, {"SET", "bad\xff", "x"}, {"SET", "b", "2"}, {"GET", "a"},  {"SET", "a", "3"},
      {"GET", "a"},      {"GET", "b"},             {"SET", "c", big}, {"GET", "c"},  {"SET", "a", "4", "GET"},
      {"PING"},          {"GET", "a"},
  };
  for (int i = 0; i < 100; ++i) commands.push_back({"SET", fmt::format("k{}", i), std::to_string(i)});  // > one batch
  commands.push_back({"GET", "k99"});
  std::string want = "+OK\r\n-ERR key is not valid UTF-8: shmkv keys are text, shared with JSON clients\r\n+OK\r\n"
                     "$1\r\n1\r\n+OK\r\n$1\r\n3\r\n$1\r\n2\r\n+OK\r\n$5000\r\n" + big + "\r\n$1\r\n3\r\n+PONG\r\n"
                     "$1\r\n4\r\n";
  for (int i = 0; i < 100; ++i) want += "+OK\r\n";
  want += "$2\r\n99\r\n";
  CHECK(h.pipeline(commands) == want);
  CHECK(h.call({"DBSIZE"}) == ":103\r\n");
}

TEST_CASE("unknown commands and wrong arities answer Redis's exact words") {
  Harness h;
  CHECK(h.call({"FOO", "a", "b"}) == "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n");
  CHECK(h.call({"FOO"}) == "-ERR unknown command 'FOO', with args beginning with: \r\n");
  CHECK(h.call({"HSET", "k"}) == "-ERR unknown command 'HSET', with args beginning with: 'k' \r\n");
  CHECK(h.call({"FOO", std::string(200, 'x'), "b"}) ==
        "-ERR unknown command 'FOO', with args beginning with: '" + std::string(128, 'x') + "' \r\n");
  CHECK(h.call({"get"}) == "-ERR wrong number of arguments for 'get' command\r\n");
  CHECK(h.call({"GET", "a", "b"}) == "-ERR wrong number of arguments for 'get' command\r\n");
  CHECK(h.call({"MSET", "a", "b", "c"}) == "-ERR wrong number of arguments for 'mset' command\r\n");
  CHECK(h.call({"SELECT", "x"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(h.call({"SELECT", "1"}) == "-ERR DB index is out of range\r\n");
  CHECK(h.call({"SELECT", "0"}) == "+OK\r\n");
  CHECK(h.call({"SCAN", "x"}) == "-ERR invalid cursor\r\n");
  CHECK(h.call({"SCAN", "0", "COUNT", "0"}) == "-ERR syntax error\r\n");
  CHECK(h.call({"SET", "k", "v", "BOGUS"}) == "-ERR syntax error\r\n");
  CHECK(h.call({"CLIENT", "FOO"}) == "-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n");
  CHECK(h.call({"HELLO", "4"}) == "-NOPROTO unsupported protocol version\r\n");
}

TEST_CASE("SET EX, PX, EXAT and PXAT set an expiry that TTL and PTTL report and the clock reaches") {
  Harness h;
  CHECK(h.call({"SET", "k", "v", "EX", "100"}) == "+OK\r\n");
  CHECK(h.call({"TTL", "k"}) == ":100\r\n");
  CHECK(h.call({"PTTL", "k"}) == ":100000\r\n");
  h.now += 99'400;
  CHECK(h.call({"TTL", "k"}) == ":1\r\n");  // 600 ms left: rounded, as Redis does
  h.now += 600;
  CHECK(h.call({"GET", "k"}) == "$-1\r\n");
  CHECK(h.call({"TTL", "k"}) == ":-2\r\n");

  CHECK(h.call({"SET", "k", "v", "px", "1500"}) == "+OK\r\n");
  CHECK(h.call({"PTTL", "k"}) == ":1500\r\n");
  CHECK(h.call({"SET", "k", "v", "EXAT", std::to_string(h.now / 1000 + 50)}) == "+OK\r\n");
  CHECK(h.call({"PTTL", "k"}) == ":50000\r\n");
  CHECK(h.call({"SET", "k", "v", "PXAT", std::to_string(h.now + 1234)}) == "+OK\r\n");
  CHECK(h.call({"PTTL", "k"}) == ":1234\r\n");
  // A time already past: OK, and the key is gone (Redis 7).
  CHECK(h.call({"SET", "k", "v", "PXAT", std::to_string(h.now - 1)}) == "+OK\r\n");
  CHECK(h.call({"EXISTS", "k"}) == ":0\r\n");
  // A plain SET removes an expiry.
  CHECK(h.call({"SET", "k", "v", "EX", "10"}) == "+OK\r\n");
  CHECK(h.call({"SET", "k", "w"}) == "+OK\r\n");
  CHECK(h.call({"TTL", "k"}) == ":-1\r\n");
  CHECK(h.call({"INFO", "keyspace"}) == "$44\r\n# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n\r\n");
  CHECK(h.call({"EXPIRE", "k", "10"}) == ":1\r\n");
  CHECK(h.call({"INFO", "keyspace"}) == "$44\r\n# Keyspace\r\ndb0:keys=1,expires=1,avg_ttl=0\r\n\r\n");
}

TEST_CASE("SET's bad options are Redis's errors and store nothing") {
  Harness h;
  const std::string syntax = "-ERR syntax error\r\n";
  CHECK(h.call({"SET", "k", "v", "NX", "XX"}) == syntax);
  CHECK(h.call({"SET", "k", "v", "EX", "1", "PX", "1"}) == syntax);
  CHECK(h.call({"SET", "k", "v", "KEEPTTL", "EX", "1"}) == syntax);
  CHECK(h.call({"SET", "k", "v", "EX", "1", "KEEPTTL"}) == syntax);
  CHECK(h.call({"SET", "k", "v", "EX"}) == syntax);
  CHECK(h.call({"SET", "k", "v", "EX", "x"}) == "-ERR value is not an integer or out of range\r\n");
  const std::string invalid = "-ERR invalid expire time in 'set' command\r\n";
  CHECK(h.call({"SET", "k", "v", "EX", "0"}) == invalid);
  CHECK(h.call({"SET", "k", "v", "PX", "-5"}) == invalid);
  CHECK(h.call({"SET", "k", "v", "EX", "9223372036854775807"}) == invalid);
  CHECK(h.call({"SET", "k", "v", "EX", "315360001"}) == invalid);  // beyond shmkv's 10 years
  CHECK(h.call({"EXISTS", "k"}) == ":0\r\n");
  // The same expiry option twice: the last counts, as in Redis.
  CHECK(h.call({"SET", "k", "v", "EX", "1", "EX", "7"}) == "+OK\r\n");
  CHECK(h.call({"TTL", "k"}) == ":7\r\n");
}

TEST_CASE("SET NX, XX, GET and KEEPTTL") {
  Harness h;
  CHECK(h.call({"SET", "k", "a", "XX"}) == "$-1\r\n");
  CHECK(h.call({"EXISTS", "k"}) == ":0\r\n");
  CHECK(h.call({"SET", "k", "a", "NX"}) == "+OK\r\n");
  CHECK(h.call({"SET", "k", "b", "NX"}) == "$-1\r\n");
  CHECK(h.call({"GET", "k"}) == "$1\r\na\r\n");
  CHECK(h.call({"SET", "k", "b", "XX", "GET"}) == "$1\r\na\r\n");
  CHECK(h.call({"SET", "k", "c", "NX", "GET"}) == "$1\r\nb\r\n");  // not stored: the old value all the same
  CHECK(h.call({"GET", "k"}) == "$1\r\nb\r\n");
  CHECK(h.call({"SET", "new", "x", "GET"}) == "$-1\r\n");
  CHECK(h.call({"GET", "new"}) == "$1\r\nx\r\n");
  CHECK(h.call({"SET", "k", "c", "PX", "5000"}) == "+OK\r\n");
  h.now += 1000;
  CHECK(h.call({"SET", "k", "d", "KEEPTTL"}) == "+OK\r\n");
  CHECK(h.call({"PTTL", "k"}) == ":4000\r\n");
  CHECK(h.call({"GET", "k"}) == "$1\r\nd\r\n");
  CHECK(h.call({"SET", "k", "e", "KEEPTTL", "XX"}) == "+OK\r\n");
  CHECK(h.call({"PTTL", "k"}) == ":4000\r\n");
  CHECK(h.call({"SET", "none", "e", "KEEPTTL"}) == "+OK\r\n");
  CHECK(h.call({"TTL", "none"}) == ":-1\r\n");
}

TEST_CASE("SETNX, SETEX, PSETEX and MSETNX") {
  Harness h;
  CHECK(h.call({"SETNX", "k", "a"}) == ":1\r\n");
  CHECK(h.call({"SETNX", "k", "b"}) == ":0\r\n");
  CHECK(h.call({"GET", "k"}) == "$1\r\na\r\n");
  CHECK(h.call({"SETEX", "k", "30", "s"}) == "+OK\r\n");
  CHECK(h.call({"TTL", "k"}) == ":30\r\n");
  CHECK(h.call({"GET", "k"}) == "$1\r\ns\r\n");
  CHECK(h.call({"SETEX", "k", "0", "s"}) == "-ERR invalid expire time in 'setex' command\r\n");
  CHECK(h.call({"SETEX", "k", "x", "s"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(h.call({"PSETEX", "p", "250", "q"}) == "+OK\r\n");
  CHECK(h.call({"PTTL", "p"}) == ":250\r\n");
  CHECK(h.call({"PSETEX", "p", "-1", "q"}) == "-ERR invalid expire time in 'psetex' command\r\n");
  CHECK(h.call({"SETEX", "k", "1"}) == "-ERR wrong number of arguments for 'setex' command\r\n");
  CHECK(h.call({"MSETNX", "a", "1", "b", "2"}) == ":1\r\n");
  CHECK(h.call({"MGET", "a", "b"}) == "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
  CHECK(h.call({"MSETNX", "c", "3", "a", "9"}) == ":0\r\n");
  CHECK(h.call({"MGET", "a", "c"}) == "*2\r\n$1\r\n1\r\n$-1\r\n");
  CHECK(h.call({"MSETNX", "c", "3", "d"}) == "-ERR wrong number of arguments for 'msetnx' command\r\n");
  // A key given twice is stored once, with its last value.
  CHECK(h.call({"MSETNX", "z", "1", "y", "5", "z", "2"}) == ":1\r\n");
  CHECK(h.call({"MGET", "z", "y"}) == "*2\r\n$1\r\n2\r\n$1\r\n5\r\n");
}

// A session with small bounds, whose drain moves the output to sent.
struct DrainedSession {
  Harness h;
  std::string sent;
  std::size_t drains = 0, largest_output = 0;
  bool connected = true;
  resp::Session session{*h.keyspace, resp::Session::Config{6379, 16, 0, 1000, 16 << 10}, h.out};

  DrainedSession() {
    session.begin([this] {
      ++drains;
      largest_output = std::max(largest_output, h.out.size());
      sent += h.out;
      h.out.clear();
      return connected;
    });
  }
  // run executes commands and flushes, and returns all that was written.
  std::string run(const std::vector<std::vector<std::string>>& commands) {
    for (const std::vector<std::string>& args : commands) {
      const std::vector<std::string_view> views(args.begin(), args.end());
      session.execute(views);
    }
    session.flush();
    largest_output = std::max(largest_output, h.out.size());
    std::string all = sent + h.out;
    sent.clear();
    h.out.clear();
    return all;
  }
};

TEST_CASE("an MGET or a run of GETs of big values is answered in parts, each sent before the next is read") {
  DrainedSession d;
  const std::string big(1000, 'v');
  REQUIRE(d.run({{"SET", "big", big}}) == "+OK\r\n");
  const std::string bulk = "$1000\r\n" + big + "\r\n";
  std::vector<std::string> mget{"MGET"};
  std::string expected = "*201\r\n";
  for (int i = 0; i < 200; ++i) {
    mget.push_back(i == 7 ? "absent" : "big");
    expected += i == 7 ? "$-1\r\n" : bulk;
  }
  mget.push_back("big");
  expected += bulk;
  CHECK(d.run({mget}) == expected);
  // 201 KB of replies went out in parts: the output never held much more
  // than the limit (16 KiB) and a quarter of it.
  CHECK(d.drains >= 10);
  CHECK(d.largest_output < (16 << 10) + (4 << 10) + 2 * bulk.size());

  d.drains = d.largest_output = 0;
  std::vector<std::vector<std::string>> gets(64, {"GET", "big"});
  std::string replies;
  for (int i = 0; i < 64; ++i) replies += bulk;
  CHECK(d.run(gets) == replies);
  CHECK(d.drains >= 3);
  CHECK(d.largest_output < (16 << 10) + (4 << 10) + 2 * bulk.size());
  CHECK_FALSE(d.session.lost());

  // A client gone mid-reply: the MGET stops, and the session says so.
  d.connected = false;
  CHECK(d.session.execute(std::vector<std::string_view>(mget.begin(), mget.end())) == resp::Session::After::kClose);
  CHECK(d.session.lost());
}

TEST_CASE("EXISTS over many keys and INFO over many sections answer as with few") {
  Harness h;
  REQUIRE(h.call({"SET", "a", "1"}) == "+OK\r\n");
  std::vector<std::string> exists{"EXISTS"};
  for (int i = 0; i < 3000; ++i) exists.push_back(i % 3 == 0 ? "a" : "b");  // past 1024 keys a call
  CHECK(h.call(exists) == ":1000\r\n");
  std::vector<std::string> info{"INFO"};
  for (int i = 0; i < 10000; ++i) info.push_back(i % 2 ? "SERVER" : "nonesuch");
  const std::string reply = h.call(info);
  CHECK(reply.find("# Server") != std::string::npos);
  CHECK(reply.find("# Server", reply.find("# Server") + 1) == std::string::npos);
  CHECK(reply.find("# Clients") == std::string::npos);
  CHECK(h.call({"INFO", "nonesuch"}) == "$0\r\n\r\n");
}

TEST_CASE("APPEND makes no value longer than --max-message, as Redis bounds it by proto-max-bulk-len") {
  DrainedSession d;
  CHECK(d.run({{"APPEND", "k", std::string(600, 'a')}}) == ":600\r\n");
  CHECK(d.run({{"APPEND", "k", std::string(400, 'b')}}) == ":1000\r\n");
  CHECK(d.run({{"APPEND", "k", "c"}}) == "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n");
  CHECK(d.run({{"STRLEN", "k"}}) == ":1000\r\n");
  // EXISTS counts a key named twice twice, as Redis does.
  CHECK(d.run({{"EXISTS", "k", "k", "absent"}}) == ":2\r\n");
}

TEST_CASE("INCR, INCRBY, DECR and DECRBY, with Redis's errors, keeping the expiry") {
  Harness h;
  CHECK(h.call({"INCR", "n"}) == ":1\r\n");
  CHECK(h.call({"INCRBY", "n", "41"}) == ":42\r\n");
  CHECK(h.call({"DECR", "n"}) == ":41\r\n");
  CHECK(h.call({"DECRBY", "n", "-9"}) == ":50\r\n");
  CHECK(h.call({"GET", "n"}) == "$2\r\n50\r\n");
  CHECK(h.call({"SET", "s", "12"}) == "+OK\r\n");  // bytes that are a decimal integer
  CHECK(h.call({"INCR", "s"}) == ":13\r\n");
  const std::string not_integer = "-ERR value is not an integer or out of range\r\n";
  CHECK(h.call({"SET", "t", "1.5"}) == "+OK\r\n");
  CHECK(h.call({"INCR", "t"}) == not_integer);
  CHECK(h.call({"GET", "t"}) == "$3\r\n1.5\r\n");
  CHECK(h.call({"SET", "t", " 1"}) == "+OK\r\n");
  CHECK(h.call({"INCR", "t"}) == not_integer);
  CHECK(h.call({"SET", "t", "007"}) == "+OK\r\n");  // Redis's string2ll: no leading zeros, no "-0"
  CHECK(h.call({"INCR", "t"}) == not_integer);
  CHECK(h.call({"SET", "t", "-0"}) == "+OK\r\n");
  CHECK(h.call({"INCR", "t"}) == not_integer);
  CHECK(h.call({"GET", "t"}) == "$2\r\n-0\r\n");
  CHECK(h.call({"INCRBY", "n", "x"}) == not_integer);
  CHECK(h.call({"INCRBY", "n", "9223372036854775808"}) == not_integer);
  CHECK(h.call({"SET", "big", "9223372036854775807"}) == "+OK\r\n");
  CHECK(h.call({"INCR", "big"}) == "-ERR increment or decrement would overflow\r\n");
  CHECK(h.call({"GET", "big"}) == "$19\r\n9223372036854775807\r\n");
  CHECK(h.call({"DECRBY", "n", "-9223372036854775808"}) == "-ERR decrement would overflow\r\n");
  CHECK(h.call({"SET", "e", "5", "EX", "20"}) == "+OK\r\n");
  CHECK(h.call({"INCR", "e"}) == ":6\r\n");
  CHECK(h.call({"TTL", "e"}) == ":20\r\n");
}

TEST_CASE("EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, TTL, PTTL and PERSIST") {
  Harness h;
  CHECK(h.call({"EXPIRE", "k", "10"}) == ":0\r\n");
  CHECK(h.call({"TTL", "k"}) == ":-2\r\n");
  CHECK(h.call({"PTTL", "k"}) == ":-2\r\n");
  CHECK(h.call({"SET", "k", "v"}) == "+OK\r\n");
  CHECK(h.call({"TTL", "k"}) == ":-1\r\n");
  CHECK(h.call({"PERSIST", "k"}) == ":0\r\n");
  CHECK(h.call({"EXPIRE", "k", "10"}) == ":1\r\n");
  CHECK(h.call({"PTTL", "k"}) == ":10000\r\n");
  CHECK(h.call({"PEXPIRE", "k", "2500"}) == ":1\r\n");
  CHECK(h.call({"PTTL", "k"}) == ":2500\r\n");
  CHECK(h.call({"EXPIREAT", "k", std::to_string(h.now / 1000 + 60)}) == ":1\r\n");
  CHECK(h.call({"PTTL", "k"}) == ":60000\r\n");
  CHECK(h.call({"PEXPIREAT", "k", std::to_string(h.now + 777)}) == ":1\r\n");
  CHECK(h.call({"PTTL", "k"}) == ":777\r\n");
  CHECK(h.call({"PERSIST", "k"}) == ":1\r\n");
  CHECK(h.call({"TTL", "k"}) == ":-1\r\n");
  // Options (Redis 7).
  CHECK(h.call({"EXPIRE", "k", "10", "XX"}) == ":0\r\n");
  CHECK(h.call({"EXPIRE", "k", "10", "NX"}) == ":1\r\n");
  CHECK(h.call({"EXPIRE", "k", "20", "NX"}) == ":0\r\n");
  CHECK(h.call({"EXPIRE", "k", "5", "GT"}) == ":0\r\n");
  CHECK(h.call({"EXPIRE", "k", "20", "GT"}) == ":1\r\n");
  CHECK(h.call({"EXPIRE", "k", "30", "LT"}) == ":0\r\n");
  CHECK(h.call({"EXPIRE", "k", "15", "lt"}) == ":1\r\n");
  CHECK(h.call({"TTL", "k"}) == ":15\r\n");
  CHECK(h.call({"EXPIRE", "k", "15", "NX", "XX"}) ==
        "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n");
  CHECK(h.call({"EXPIRE", "k", "15", "GT", "LT"}) == "-ERR GT and LT options at the same time are not compatible\r\n");
  CHECK(h.call({"EXPIRE", "k", "15", "FOO"}) == "-ERR Unsupported option FOO\r\n");
  CHECK(h.call({"EXPIRE", "k", "x"}) == "-ERR value is not an integer or out of range\r\n");
  CHECK(h.call({"EXPIRE", "k", "9223372036854775807"}) == "-ERR invalid expire time in 'expire' command\r\n");
  CHECK(h.call({"PEXPIREAT", "k", "9223372036854775807"}) == "-ERR invalid expire time in 'pexpireat' command\r\n");
  CHECK(h.call({"TTL", "k"}) == ":15\r\n");
  // A time in the past deletes the key and answers 1.
  CHECK(h.call({"EXPIRE", "k", "0"}) == ":1\r\n");
  CHECK(h.call({"EXISTS", "k"}) == ":0\r\n");
  CHECK(h.call({"SET", "k", "v"}) == "+OK\r\n");
  CHECK(h.call({"EXPIREAT", "k", "1"}) == ":1\r\n");
  CHECK(h.call({"EXISTS", "k"}) == ":0\r\n");
  CHECK(h.call({"SET", "k", "v"}) == "+OK\r\n");
  CHECK(h.call({"PEXPIRE", "k", "-9223372036854775808"}) == ":1\r\n");
  CHECK(h.call({"EXISTS", "k"}) == ":0\r\n");
  // The clock reaching the expiry.
  CHECK(h.call({"SET", "k", "v", "PX", "10"}) == "+OK\r\n");
  h.now += 9;
  CHECK(h.call({"PTTL", "k"}) == ":1\r\n");
  h.now += 1;
  CHECK(h.call({"PTTL", "k"}) == ":-2\r\n");
  CHECK(h.call({"PERSIST", "k"}) == ":0\r\n");
}

TEST_CASE("strings: SET, GET, MGET, MSET, APPEND, STRLEN, GETSET, GETDEL, DEL, EXISTS, TYPE") {
  Harness h;
  CHECK(h.call({"GET", "k"}) == "$-1\r\n");
  CHECK(h.call({"SET", "k", "v"}) == "+OK\r\n");
  CHECK(h.call({"GET", "k"}) == "$1\r\nv\r\n");
  CHECK(h.call({"APPEND", "k", "xy"}) == ":3\r\n");
  CHECK(h.call({"STRLEN", "k"}) == ":3\r\n");
  CHECK(h.call({"STRLEN", "nope"}) == ":0\r\n");
  CHECK(h.call({"MSET", "a", "1", "b", "2"}) == "+OK\r\n");
  CHECK(h.call({"MGET", "a", "nope", "b"}) == "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n");
  CHECK(h.call({"GETSET", "a", "9"}) == "$1\r\n1\r\n");
  CHECK(h.call({"GETDEL", "a"}) == "$1\r\n9\r\n");
  CHECK(h.call({"GETDEL", "a"}) == "$-1\r\n");
  CHECK(h.call({"EXISTS", "k", "k", "a", "b"}) == ":3\r\n");
  CHECK(h.call({"TYPE", "k"}) == "+string\r\n");
  CHECK(h.call({"TYPE", "a"}) == "+none\r\n");
  CHECK(h.call({"DBSIZE"}) == ":2\r\n");
  CHECK(h.call({"DEL", "k", "b", "zz"}) == ":2\r\n");
  CHECK(h.call({"UNLINK", "k"}) == ":0\r\n");
  CHECK(h.call({"DBSIZE"}) == ":0\r\n");
}

TEST_CASE("APPEND keeps the key's expiry, as Redis does") {
  Harness h;
  CHECK(h.call({"SET", "k", "v", "EX", "100"}) == "+OK\r\n");
  h.now += 10'000;
  CHECK(h.call({"APPEND", "k", "x"}) == ":2\r\n");
  CHECK(h.call({"TTL", "k"}) == ":90\r\n");
  CHECK(h.call({"APPEND", "fresh", "x"}) == ":1\r\n");
  CHECK(h.call({"TTL", "fresh"}) == ":-1\r\n");
  h.now += 90'000;
  CHECK(h.call({"GET", "k"}) == "$-1\r\n");
}

TEST_CASE("every byte value round-trips, and JSON values read as shmkv-protocol(7) RESP says") {
  Harness h;
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  CHECK(h.call({"SET", "bin", all}) == "+OK\r\n");
  CHECK(h.call({"GET", "bin"}) == "$256\r\n" + all + "\r\n");
  CHECK(h.call({"SET", "utf8", "h\xc3\xa9\n\"q\""}) == "+OK\r\n");
  std::string stored;
  store::Kind kind = store::Kind::kJson;
  REQUIRE_OK(h.store->get("utf8", &stored, &kind));
  CHECK(stored == "h\xc3\xa9\n\"q\"");  // the bytes as sent, marked as bytes
  CHECK(kind == store::Kind::kBytes);
  CHECK(h.call({"GET", "utf8"}) == "$7\r\nh\xc3\xa9\n\"q\"\r\n");
  REQUIRE_OK(h.store->put("json", "{\"a\": [1, 2]}"));
  REQUIRE_OK(h.store->put("str", "\"hello\""));
  REQUIRE_OK(h.store->put("esc", "\"a\\u00e9\\tb\""));
  REQUIRE_OK(h.store->put("num", "42"));
  CHECK(h.call({"GET", "json"}) == "$13\r\n{\"a\": [1, 2]}\r\n");
  CHECK(h.call({"GET", "str"}) == "$5\r\nhello\r\n");
  CHECK(h.call({"GET", "esc"}) == "$5\r\na\xc3\xa9\tb\r\n");
  CHECK(h.call({"GET", "num"}) == "$2\r\n42\r\n");
  REQUIRE_OK(h.store->get("bin", &stored, &kind));
  CHECK(kind == store::Kind::kBytes);
  CHECK(stored == all);
  // Keys are text: JSON clients list them.
  CHECK(h.call({"SET", "bad\xffkey", "v"}) ==
        "-ERR key is not valid UTF-8: shmkv keys are text, shared with JSON clients\r\n");
  CHECK(h.call({"MSET", "ok", "1", "bad\xff", "2"}) ==
        "-ERR key is not valid UTF-8: shmkv keys are text, shared with JSON clients\r\n");
  CHECK(h.call({"GET", "bad\xffkey"}) == "$-1\r\n");
  CHECK(h.call({"SET", "caf\xc3\xa9", "v"}) == "+OK\r\n");  // UTF-8 beyond ASCII is text
  CHECK(h.call({"SET", std::string(40, 'k') + "\xc3", "v"}) ==
        "-ERR key is not valid UTF-8: shmkv keys are text, shared with JSON clients\r\n");
}

TEST_CASE("HELLO 3 switches to RESP3: maps and _ nulls; RESET goes back") {
  Harness h;
  const std::string hello = h.call({"HELLO", "3"});
  CHECK(hello.rfind("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n", 0) == 0);
  CHECK(hello.find("$5\r\nproto\r\n:3\r\n") != std::string::npos);
  CHECK(h.call({"GET", "nope"}) == "_\r\n");
  CHECK(h.call({"CONFIG", "GET", "databases"}) == "%1\r\n$9\r\ndatabases\r\n$1\r\n1\r\n");
  CHECK(h.call({"RESET"}) == "+RESET\r\n");
  CHECK(h.call({"GET", "nope"}) == "$-1\r\n");
  CHECK(h.call({"HELLO"}).rfind("*14\r\n", 0) == 0);
  // A name CLIENT SETNAME refuses is refused whole: still RESP2, no name.
  CHECK(h.call({"HELLO", "3", "SETNAME", "a b"}) ==
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
  CHECK(h.call({"CLIENT", "GETNAME"}) == "$-1\r\n");
  CHECK(h.call({"HELLO", "3", "SETNAME", "me"}).rfind("%7\r\n", 0) == 0);
  CHECK(h.call({"CLIENT", "GETNAME"}) == "$2\r\nme\r\n");
  // INFO's text is a verbatim string in RESP3.
  CHECK(h.call({"INFO", "keyspace"}) == "=16\r\ntxt:# Keyspace\r\n\r\n");
}

TEST_CASE("a pipelined run of GETs is answered in order with the other replies") {
  Harness h;
  h.out.clear();
  const std::vector<std::vector<std::string_view>> commands = {
      {"SET", "a", "1"}, {"GET", "a"}, {"GET", "nope"}, {"SET", "a", "2"}, {"GET", "a"}, {"PING"}, {"GET", "a"}};
  for (const auto& c : commands) h.session->execute(c);
  h.session->flush();
  CHECK(h.out == "+OK\r\n$1\r\n1\r\n$-1\r\n+OK\r\n$1\r\n2\r\n+PONG\r\n$1\r\n2\r\n");
  // More GETs than one batch holds.
  h.out.clear();
  for (int i = 0; i < 200; ++i) h.session->execute({"GET", "a"});
  h.session->flush();
  std::string want;
  for (int i = 0; i < 200; ++i) want += "$1\r\n2\r\n";
  CHECK(h.out == want);
}

TEST_CASE("connection commands") {
  Harness h;
  CHECK(h.call({"PING"}) == "+PONG\r\n");
  CHECK(h.call({"ping", "hi"}) == "$2\r\nhi\r\n");
  CHECK(h.call({"ECHO", "x"}) == "$1\r\nx\r\n");
  CHECK(h.call({"CLIENT", "GETNAME"}) == "$-1\r\n");
  CHECK(h.call({"CLIENT", "SETNAME", "a b"}) ==
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
  CHECK(h.call({"CLIENT", "SETNAME", "me"}) == "+OK\r\n");
  CHECK(h.call({"CLIENT", "GETNAME"}) == "$2\r\nme\r\n");
  CHECK(h.call({"CLIENT", "SETINFO", "lib-name", "x"}) == "+OK\r\n");
  CHECK(h.call({"CLIENT", "SETINFO", "LIB-VER", "1 2"}) ==
        "-ERR LIB-VER cannot contain spaces, newlines or special characters.\r\n");
  CHECK(h.call({"CLIENT", "SETINFO", "lib-name", "a\nb"}) ==
        "-ERR lib-name cannot contain spaces, newlines or special characters.\r\n");
  CHECK(h.call({"CLIENT", "ID"}).rfind(":", 0) == 0);
  CHECK(h.call({"COMMAND", "DOCS"}) == "*0\r\n");
  CHECK(h.call({"COMMAND", "COUNT"}) == ":47\r\n");
  CHECK(h.call({"COMMAND", "COUNT", "x"}) == "-ERR wrong number of arguments for 'command|count' command\r\n");
  CHECK(h.call({"COMMAND", "NOPE"}) == "-ERR unknown subcommand 'NOPE'. Try COMMAND HELP.\r\n");
  for (const char* command : {"CLIENT", "COMMAND", "CONFIG"}) {
    CAPTURE(command);
    const std::string help = h.call({command, "help"});
    CHECK(help.rfind("*", 0) == 0);
    CHECK(help.find(fmt::format("+{} <subcommand>", command)) != std::string::npos);
    CHECK(help.find("+HELP\r\n+    Print this help.\r\n") != std::string::npos);
  }
  CHECK(h.call({"CLIENT", "HELP"}).find("+SETNAME <name>\r\n") != std::string::npos);
  const std::string t = h.call({"TIME"});
  CHECK(t.rfind("*2\r\n$10\r\n", 0) == 0);
  resp::Session::After after = resp::Session::After::kContinue;
  h.out.clear();
  const std::vector<std::string_view> quit{"QUIT"};
  after = h.session->execute(quit);
  CHECK(after == resp::Session::After::kClose);
  CHECK(h.out == "+OK\r\n");
}

TEST_CASE("KEYS matches Redis globs; INFO keyspace in Redis's format; FLUSHDB empties") {
  Harness h;
  for (const char* k : {"user:1", "user:2", "user:10", "order:1", "u[x]"}) h.call({"SET", k, "v"});
  CHECK(h.call({"KEYS", "user:?"}) == "*2\r\n$6\r\nuser:1\r\n$6\r\nuser:2\r\n");
  CHECK(h.call({"KEYS", "*:1*"}) == "*3\r\n$7\r\norder:1\r\n$6\r\nuser:1\r\n$7\r\nuser:10\r\n");
  CHECK(h.call({"KEYS", "u\\[x\\]"}) == "*1\r\n$4\r\nu[x]\r\n");
  CHECK(h.call({"INFO", "keyspace"}) == "$44\r\n# Keyspace\r\ndb0:keys=5,expires=0,avg_ttl=0\r\n\r\n");
  CHECK(h.call({"FLUSHDB"}) == "+OK\r\n");
  CHECK(h.call({"DBSIZE"}) == ":0\r\n");
  CHECK(h.call({"INFO", "keyspace"}) == "$12\r\n# Keyspace\r\n\r\n");
  // Several sections come in Redis's order; unknown ones add nothing.
  const std::string two = h.call({"INFO", "keyspace", "CLIENTS", "nope"});
  CHECK(two.find("# Clients\r\n") < two.find("# Keyspace\r\n"));
  CHECK(two.find("# Server") == std::string::npos);
  CHECK(h.call({"INFO", "keyspace", "keyspace"}) == "$12\r\n# Keyspace\r\n\r\n");
  CHECK(h.call({"INFO", "a", "b"}) == "$0\r\n\r\n");
  CHECK(h.call({"INFO", "memory"}).find("\r\nmaxmemory_human:4.00M\r\n") != std::string::npos);
  // CONFIG GET answers a plain name as given, a pattern's match as its own.
  CHECK(h.call({"CONFIG", "GET", "Databases"}) == "*2\r\n$9\r\nDatabases\r\n$1\r\n1\r\n");
  CHECK(h.call({"CONFIG", "GET", "DATA*"}) == "*2\r\n$9\r\ndatabases\r\n$1\r\n1\r\n");
  CHECK(h.call({"RANDOMKEY"}) == "$-1\r\n");
  h.call({"SET", "only", "v"});
  CHECK(h.call({"RANDOMKEY"}) == "$4\r\nonly\r\n");
}

TEST_CASE("SCAN returns every key present for the whole scan, whatever changes meanwhile") {
  Harness h;
  std::set<std::string> stay;
  // Keys that share their first 8 bytes, short keys, keys of zero bytes.
  for (int i = 0; i < 300; ++i) {
    const std::string k = fmt::format("samepref{:04}", i);
    h.call({"SET", k, "v"});
    stay.insert(k);
  }
  for (const std::string& k : {std::string("a"), std::string("b"), std::string(3, '\0'), std::string("\xf4\x8f\xbf\xbf\xf4\x8f\xbf\xbf\xf4\x8f\xbf\xbf")}) {
    h.call({"SET", k, "v"});
    stay.insert(k);
  }
  for (int i = 0; i < 200; ++i) {
    const std::string k = fmt::format("k{:05}", i * 7);
    h.call({"SET", k, "v"});
    stay.insert(k);
  }
  for (int count : {1, 3, 10, 1000}) {
    CAPTURE(count);
    int round = 0;
    const auto seen = scan_all(h, count, [&](int i) {
      // Between calls, add and remove other keys all over the key space.
      h.call({"SET", fmt::format("k{:05}n", i * 13 + 1 + round), "new"});
      h.call({"SET", fmt::format("samepref{:04}x", i), "new"});
      h.call({"DEL", fmt::format("k{:05}n", (i - 1) * 13 + 1 + round)});
    });
    ++round;
    for (const std::string& k : stay) CHECK_MESSAGE(seen.count(k) >= 1, k);
  }
  CHECK(h.call({"SCAN", "0", "MATCH", "a", "COUNT", "100000"}) == "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n");
}

TEST_CASE("SCAN keeps its promise while the index doubles, and answers about COUNT keys whatever their names") {
  Harness h;
  std::set<std::string> stay;
  for (int i = 0; i < 2000; ++i) {  // one prefix for all: one 8-byte group once
    const std::string k = fmt::format("user:{:08}", i);
    h.call({"SET", k, "v"});
    stay.insert(k);
  }
  // A call looks at about COUNT keys: not the whole group.
  const std::string first = h.call({"SCAN", "0", "COUNT", "10"});
  CHECK(first.size() < 40 * 25);
  // 50 keys added between calls: the 1,024-bucket index doubles (at 2,048
  // keys) and doubles again during the walk, its nodes moving a few
  // buckets per write.
  int added = 0;
  const auto seen = scan_all(h, 20, [&](int) {
    for (int j = 0; j < 50; ++j) h.call({"SET", fmt::format("grow:{:06}", added++), "v"});
  });
  CHECK(added > 2000);
  for (const std::string& k : stay) CHECK_MESSAGE(seen.count(k) >= 1, k);
}

TEST_CASE("KEYS and SCAN MATCH refuse a pattern whose matching would cost its length times the keys'") {
  Harness h;
  const std::string key(200'000, 'a');
  REQUIRE(h.call({"SET", key, "v"}) == "+OK\r\n");
  REQUIRE(h.call({"SET", "short", "v"}) == "+OK\r\n");
  // 100 KB of pattern against a 200 KB key: 2e10 steps unbounded.
  const std::string costly = "*" + std::string(100'000, 'a') + "b*";
  const std::string refused = "-ERR pattern too costly to match against these keys: use a shorter one\r\n";
  CHECK(h.call({"KEYS", costly}) == refused);
  CHECK(h.call({"SCAN", "0", "MATCH", costly, "COUNT", "1000"}) == refused);
  // Sensible patterns, on the same long key, are answered.
  CHECK(h.call({"KEYS", "*a*b*"}) == "*0\r\n");
  CHECK(h.call({"KEYS", "s*t"}) == "*1\r\n$5\r\nshort\r\n");
  CHECK(h.call({"KEYS", "*" + std::string(50, 'a') + "*"}).starts_with("*1\r\n$200000\r\n"));
  CHECK(h.call({"SCAN", "0", "MATCH", "*aaaa?", "COUNT", "1000"}).ends_with("*1\r\n$200000\r\n" + key + "\r\n"));
}

TEST_CASE("glob matching as Redis's stringmatchlen") {
  using resp::glob::match;
  CHECK(match("*", ""));
  CHECK(match("h?llo", "hello"));
  CHECK_FALSE(match("h?llo", "hllo"));
  CHECK(match("h*llo", "heeeello"));
  CHECK(match("h[ae]llo", "hallo"));
  CHECK_FALSE(match("h[^e]llo", "hello"));
  CHECK(match("h[a-b]llo", "hbllo"));
  CHECK(match("h[b-a]llo", "hallo"));
  // Redis reads "[a-]" as the range ']' to a, the class going on to the
  // next ']' (or the pattern's end).
  CHECK_FALSE(match("h[a-]llo", "hallo"));
  CHECK_FALSE(match("h[a-]llo", "h-llo"));
  CHECK(match("h[a-]llo", "h]"));
  CHECK(match("h[a-]x]o", "hxo"));
  CHECK(match("h[a-]x]o", "h_o"));
  CHECK_FALSE(match("h[a-]x]o", "hbo"));
  CHECK(match("a\\*b", "a*b"));
  CHECK_FALSE(match("a\\*b", "axb"));
  CHECK(match("*a*b*c*", "xxaxxbxxc"));
  CHECK_FALSE(match("*a*b*c*d", "xxaxxbxxc"));
  CHECK(match(std::string(50, '*') + "x", std::string(1000, 'a') + "x"));
  CHECK_FALSE(match("a*a*a*a*a*a*a*a*b", std::string(5000, 'a')));
  // The budget: a step per byte of text tried against an element.
  std::uint64_t budget = 1000;
  CHECK(resp::glob::match("*x", std::string(500, 'a') + "x", &budget) == resp::glob::Result::kYes);
  CHECK(budget > 0);
  budget = 1'000'000;
  const std::string long_pattern = "*" + std::string(10'000, 'a') + "b*";
  CHECK(resp::glob::match(long_pattern, std::string(100'000, 'a'), &budget) == resp::glob::Result::kOverBudget);
  CHECK(budget == 0);
  budget = 10;
  CHECK(resp::glob::match("[" + std::string(100, 'a') + "]b", "ab", &budget) == resp::glob::Result::kOverBudget);
  CHECK(resp::glob::literal_prefix("user:*") == "user:");
  CHECK(resp::glob::literal_prefix("a\\*") == "a");
}

TEST_CASE("integers parse as Redis's string2ll") {
  long long v = 0;
  CHECK(resp::parse_integer("0", &v));
  CHECK(resp::parse_integer("-9223372036854775808", &v));
  CHECK(v == INT64_MIN);
  CHECK(resp::parse_integer("9223372036854775807", &v));
  for (const char* bad : {"", "-", "+1", "01", "-0", " 1", "1 ", "9223372036854775808", "1e3"})
    CHECK_MESSAGE(!resp::parse_integer(bad, &v), bad);
}

TEST_CASE("resp: every write counts as a change for snapshots; reads and writes that change nothing do not") {
  Harness h;
  auto changes = [&] { return h.board->snapshot.changes.load(); };
  // Each command, and how many changes it makes.
  const std::pair<std::vector<std::string>, int> cases[] = {
      {{"SET", "a", "1"}, 1},
      {{"SET", "a", "2", "EX", "100"}, 1},
      {{"SET", "a", "3", "NX"}, 0},           // not stored
      {{"SET", "b", "3", "XX"}, 0},           // not stored
      {{"SET", "a", "4", "XX", "GET"}, 1},
      {{"SET", "a", "5", "KEEPTTL"}, 1},
      {{"SETNX", "a", "x"}, 0},
      {{"SETNX", "n", "x"}, 1},
      {{"SETEX", "e", "10", "x"}, 1},
      {{"PSETEX", "e", "10000", "x"}, 1},
      {{"MSET", "m1", "1", "m2", "2"}, 2},
      {{"MSETNX", "m1", "1", "m3", "3"}, 0},
      {{"MSETNX", "m4", "1", "m5", "3"}, 2},
      {{"APPEND", "a", "x"}, 1},
      {{"GETSET", "a", "y"}, 1},
      {{"GETDEL", "a"}, 1},
      {{"GETDEL", "a"}, 0},
      {{"INCR", "i"}, 1},
      {{"INCRBY", "i", "5"}, 1},
      {{"DECR", "i"}, 1},
      {{"DECRBY", "i", "2"}, 1},
      {{"INCR", "n"}, 0},                     // not an integer
      {{"EXPIRE", "i", "100"}, 1},
      {{"PEXPIRE", "i", "100000"}, 1},
      {{"EXPIREAT", "i", "1800000000"}, 1},
      {{"PEXPIREAT", "i", "1800000000000"}, 1},
      {{"EXPIRE", "none", "100"}, 0},
      {{"PERSIST", "i"}, 1},
      {{"DEL", "m1", "none"}, 1},
      {{"UNLINK", "m2"}, 1},
      {{"GET", "i"}, 0},
      {{"MGET", "i", "n"}, 0},
      {{"TTL", "i"}, 0},
      {{"EXISTS", "i"}, 0},
  };
  for (const auto& [args, expected] : cases) {
    CAPTURE(args[0]);
    CAPTURE(args[1]);
    const std::uint64_t before = changes();
    h.call(args);
    CHECK(changes() - before == std::uint64_t(expected));
  }
  const std::uint64_t keys = h.keyspace->counts().keys;
  REQUIRE(keys > 0);
  std::uint64_t before = changes();
  CHECK(h.call({"FLUSHDB"}) == "+OK\r\n");
  CHECK(changes() - before == keys);
  h.call({"SET", "f", "1"});
  before = changes();
  CHECK(h.call({"FLUSHALL"}) == "+OK\r\n");
  CHECK(changes() - before == 1);
  before = changes();
  h.call({"FLUSHALL"});
  CHECK(changes() == before);
}

TEST_CASE("resp: SAVE, BGSAVE and LASTSAVE without a snapshot file; INFO persistence") {
  Harness h;
  h.board->started = 1'600'000'000;
  CHECK(h.call({"SAVE"}) == "-ERR snapshots are off: start shmkvd with --snapshot PATH\r\n");
  CHECK(h.call({"BGSAVE"}) == "-ERR snapshots are off: start shmkvd with --snapshot PATH\r\n");
  CHECK(h.call({"BGSAVE", "SCHEDULE", "x"}) == "-ERR syntax error\r\n");
  CHECK(h.call({"LASTSAVE"}) == ":1600000000\r\n");  // before any save: the start, as Redis
  h.call({"SET", "k", "v"});
  const std::string info = h.call({"INFO", "persistence"});
  CHECK(info.find("rdb_changes_since_last_save:1\r\n") != std::string::npos);
  CHECK(info.find("rdb_last_save_time:1600000000\r\n") != std::string::npos);
  CHECK(info.find("rdb_last_bgsave_status:ok\r\n") != std::string::npos);
  CHECK(info.find("rdb_bgsave_in_progress:0\r\n") != std::string::npos);
  CHECK(h.call({"CONFIG", "GET", "save"}) == "*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
}

TEST_CASE("resp: SAVE writes the snapshot and LASTSAVE and INFO say so") {
  Harness h;
  char dir[] = "/tmp/shmkv-resp-save-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string path = std::string(dir) + "/s.snap";
  REQUIRE_OK(snapshotter::init(*h.board, path));
  h.call({"SET", "k", "v"});
  CHECK(h.call({"SAVE"}) == "+OK\r\n");
  CHECK(h.call({"LASTSAVE"}) == fmt::format(":{}\r\n", h.board->snapshot.last_save.load()));
  CHECK(h.board->snapshot.last_save.load() > 0);
  CHECK(h.call({"INFO", "persistence"}).find("rdb_changes_since_last_save:0\r\n") != std::string::npos);
  CHECK(h.board->snapshot.last_save_keys.load() == 1);
  // A save that fails (its directory gone) is an error, and INFO says err.
  std::remove(path.c_str());
  REQUIRE(rmdir(dir) == 0);
  const std::string failed = h.call({"SAVE"});
  CHECK(failed.rfind("-ERR SAVE failed, the previous snapshot is kept: create ", 0) == 0);
  CHECK(h.call({"INFO", "persistence"}).find("rdb_last_bgsave_status:err\r\n") != std::string::npos);
}
