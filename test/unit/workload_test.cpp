#include "loadgen/workload.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

#include "protocol/frame.hpp"
#include "protocol/json.hpp"
#include "protocol/reply.hpp"

using namespace shmkv;
using workload::Op;
using workload::Verdict;

namespace {

// body_of returns the body of the one message in framed, as a string with
// simdjson's padding behind it.
std::string body_of(const std::string& framed, std::int32_t* version = nullptr) {
  const frame::DecodeResult m = frame::decode(framed, 1 << 20);
  REQUIRE(m.what == frame::Decoded::kMessage);
  REQUIRE(m.consumed == framed.size());
  if (version) *version = m.version;
  std::string body(m.body);
  body.reserve(body.size() + json::kPadding);
  return body;
}

Verdict check(const workload::Request& r, const std::string& body, std::string* why) {
  workload::Checker checker;
  std::string padded = body;
  padded.reserve(body.size() + json::kPadding);
  return checker.check(r, std::string_view(padded.data(), body.size()), why);
}

}  // namespace

TEST_CASE("workload: keys are named as redis-benchmark names them") {
  CHECK(workload::key_text(0).view() == "key:000000000000");
  CHECK(workload::key_text(42).view() == "key:000000000042");
  CHECK(workload::key_text(workload::kMaxKeyspace - 1).view() == "key:999999999999");
  CHECK(workload::key_text(7).view().size() == workload::kKeySize);
}

TEST_CASE("workload: requests are whole framed messages the server can parse") {
  workload::Config config;
  config.get_ratio = 0.5;
  config.value_size = 10;
  workload::Generator g(config);
  CHECK(g.value() == R"("xxxxxxxx")");
  int gets = 0;
  for (int i = 0; i < 1000; ++i) {
    std::string out;
    const workload::Request r = g.next(frame::kVersionPersistent, out);
    std::int32_t version = 0;
    const std::string body = body_of(out, &version);
    CHECK(version == frame::kVersionPersistent);
    CHECK(r.key < config.keyspace);
    const std::string key(workload::key_text(r.key).view());
    if (r.op == Op::kGet) {
      ++gets;
      CHECK(body == R"({"func": "GET", "params": {"obj": ")" + key + R"("}})");
    } else {
      CHECK(body == R"({"func": "PUT", "params": {"obj": ")" + key + R"(", "val": "xxxxxxxx"}})");
    }
  }
  CHECK(gets > 400);
  CHECK(gets < 600);
}

TEST_CASE("workload: a get ratio of 0 or 1 gives only PUTs or only GETs") {
  for (double ratio : {0.0, 1.0}) {
    workload::Config config;
    config.get_ratio = ratio;
    workload::Generator g(config);
    std::string out;
    for (int i = 0; i < 200; ++i) CHECK(g.next(1, out).op == (ratio == 1.0 ? Op::kGet : Op::kPut));
  }
}

TEST_CASE("workload: sequential keys visit every key once, then wrap") {
  workload::Config config;
  config.keyspace = 5;
  config.sequential = true;
  workload::Generator g(config);
  std::string out;
  for (std::uint64_t expected : {0, 1, 2, 3, 4, 0, 1}) CHECK(g.next(2, out).key == expected);
}

TEST_CASE("workload: random keys cover a small keyspace") {
  workload::Config config;
  config.keyspace = 10;
  workload::Generator g(config);
  std::set<std::uint64_t> seen;
  std::string out;
  for (int i = 0; i < 1000; ++i) seen.insert(g.next(2, out).key);
  CHECK(seen.size() == 10);
}

TEST_CASE("workload: the daemon's own replies pass the check") {
  const workload::Request get{Op::kGet, 7};
  const workload::Request put{Op::kPut, 7};
  const workload::KeyText text = workload::key_text(7);
  const std::string_view key = text.view();
  std::string why;
  std::string framed;
  const std::string_view value = R"("xxxx")";
  reply::get(framed, 2, key, &value);
  CHECK_MESSAGE(check(get, body_of(framed), &why) == Verdict::kOk, why);
  framed.clear();
  reply::get(framed, 2, key, nullptr);
  CHECK_MESSAGE(check(get, body_of(framed), &why) == Verdict::kOk, why);  // absent: null
  framed.clear();
  reply::put(framed, 2, key);
  CHECK_MESSAGE(check(put, body_of(framed), &why) == Verdict::kOk, why);
}

TEST_CASE("workload: an error reply is reported with the server's message") {
  std::string why;
  CHECK(check({Op::kGet, 1}, R"({"status": "ERROR", "error": "nope"})", &why) == Verdict::kErrorReply);
  CHECK(why == "error reply: nope");
  CHECK(check({Op::kPut, 1}, R"({"status": "ERROR"})", &why) == Verdict::kErrorReply);
  CHECK(why == "error reply: (no message)");
}

TEST_CASE("workload: replies that do not answer the request are wrong") {
  const workload::Request get{Op::kGet, 7};
  const workload::Request put{Op::kPut, 7};
  const std::string key(workload::key_text(7).view());
  const std::string other(workload::key_text(8).view());
  std::string why;
  CHECK(check(get, "not json", &why) == Verdict::kWrong);
  CHECK_MESSAGE(why.find("not JSON") != std::string::npos, why);
  CHECK(check(get, "[1, 2]", &why) == Verdict::kWrong);
  CHECK(check(get, R"({"response": {}})", &why) == Verdict::kWrong);
  CHECK(check(get, R"({"status": "MAYBE"})", &why) == Verdict::kWrong);
  CHECK(check(get, R"({"status": "OK", "response": {"func": "GET", "response": {"obj": ")" + other +
                       R"(", "val": 1}}})",
              &why) == Verdict::kWrong);
  CHECK(why.find("another key") != std::string::npos);
  CHECK(check(get, R"({"status": "OK", "response": {"func": "PUT", "response": {"obj": ")" + key +
                       R"(", "response": "ok"}}})",
              &why) == Verdict::kWrong);
  CHECK(check(get, R"({"status": "OK", "response": {"func": "GET", "response": {"obj": ")" + key + R"("}}})",
              &why) == Verdict::kWrong);
  CHECK(check(get, R"({"status": "OK", "response": {"func": "GET", "response": {"obj": ")" + key +
                       R"(", "val": [1,}}})",
              &why) == Verdict::kWrong);
  CHECK(check(put, R"({"status": "OK", "response": {"func": "PUT", "response": {"obj": ")" + key +
                       R"(", "response": "no"}}})",
              &why) == Verdict::kWrong);
  CHECK(check(put, R"({"status": "OK", "response": {"func": "PUT", "response": "ERROR - Function doesn't exist"}})",
              &why) == Verdict::kWrong);
}

TEST_CASE("workload: a checker that knows the stored value judges replies as the parse does") {
  const workload::Request get{Op::kGet, 7};
  const workload::Request put{Op::kPut, 7};
  const std::string key(workload::key_text(7).view());
  const std::string head = R"({"status": "OK", "response": {"func": "GET", "response": {"obj": ")" + key + R"(", "val": )";
  auto judge = [](workload::Checker& checker, const workload::Request& r, const std::string& body) {
    std::string padded = body;
    padded.reserve(body.size() + json::kPadding);
    std::string why;
    return checker.check(r, std::string_view(padded.data(), body.size()), &why);
  };
  workload::Checker checker(R"("xxxx")");
  CHECK(judge(checker, get, head + R"("xxxx"}}})") == Verdict::kOk);
  CHECK(judge(checker, get, head + "null}}}") == Verdict::kOk);
  CHECK(judge(checker, get, head + R"([1, 2]}}})") == Verdict::kOk);  // another client's value: parsed
  CHECK(judge(checker, get, head + R"("xxxx"}}} )") == Verdict::kOk);  // trailing blank: parsed
  CHECK(judge(checker, get, head + R"("xxxx"}}}x)") == Verdict::kWrong);
  CHECK(judge(checker, get, head + R"("xxxy"}}})") == Verdict::kOk);  // parsed: any valid value
  CHECK(judge(checker, get, head + R"("xxxx}}})") == Verdict::kWrong);
  CHECK(judge(checker, get, head + R"("xxxx"}})") == Verdict::kWrong);  // cut short
  CHECK(judge(checker, get, head + R"("xxxx"[}}})") == Verdict::kWrong);
  CHECK(judge(checker, get, head + R"("xxxy"}}} [)") == Verdict::kWrong);  // junk after it
  CHECK(judge(checker, put, head + R"("xxxx"}}})") == Verdict::kWrong);
  CHECK(judge(checker, put, R"({"status": "OK", "response": {"func": "PUT", "response": {"obj": ")" + key +
                                R"(", "response": "ok"}}})") == Verdict::kOk);
  // A value that is not JSON is never taken as the answer unparsed.
  workload::Checker broken(R"("xx)");
  CHECK(judge(broken, get, head + R"("xx}}})") == Verdict::kWrong);
}

TEST_CASE("workload: --incr sends only INCRs, and an integer answers them") {
  workload::Config config;
  config.incr = true;
  config.get_ratio = 1;  // not used with incr
  workload::Generator g(config);
  for (int i = 0; i < 100; ++i) {
    std::string out;
    const workload::Request r = g.next(frame::kVersionPersistent, out);
    CHECK(r.op == Op::kIncr);
    const std::string key(workload::key_text(r.key).view());
    CHECK(body_of(out) == R"({"func": "INCR", "params": {"obj": ")" + key + R"("}})");
  }
  const workload::Request r{Op::kIncr, 7};
  std::string reply;
  reply::incr(reply, frame::kVersionPersistent, workload::key_text(7).view(), -42);
  std::string why;
  CHECK(check(r, body_of(reply), &why) == Verdict::kOk);
  CHECK(check(r, R"({"status": "OK", "response": {"func": "INCR", "response": {"obj": "key:000000000007", "val": 1.5}}})",
              &why) == Verdict::kWrong);
  CHECK(check(r, R"({"status": "OK", "response": {"func": "GET", "response": {"obj": "key:000000000007", "val": 1}}})",
              &why) == Verdict::kWrong);
  CHECK(check(r, R"({"status": "ERROR", "error": "the value of key:000000000007 is not an integer"})", &why) ==
        Verdict::kErrorReply);
}
