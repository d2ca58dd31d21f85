// Tests of src/common/log.cpp: one line per event, whatever bytes a client
// sent, and a Throttle that logs what a client can repeat at will once per
// interval, with a count of what was held back.
#include "common/log.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

using namespace shmkv;

TEST_CASE("a throttle passes the first call, holds back the rest of its interval and counts them") {
  log::Throttle throttle(std::chrono::seconds(1), 1);
  std::uint64_t held = 99;
  CHECK(throttle.pass(&held));
  CHECK(held == 0);
  for (int i = 0; i < 1000; ++i) CHECK_FALSE(throttle.pass(&held));
  std::this_thread::sleep_for(std::chrono::milliseconds(1050));
  CHECK(throttle.pass(&held));
  CHECK(held == 1000);
  CHECK(log::Throttle::held_note(held) == " (1000 more not logged)");
  CHECK(log::Throttle::held_note(0).empty());
}

TEST_CASE("a throttle passes a burst in each interval") {
  log::Throttle throttle(std::chrono::seconds(10), 3);
  std::uint64_t held = 0;
  for (int i = 0; i < 3; ++i) CHECK(throttle.pass(&held));
  CHECK_FALSE(throttle.pass(&held));
  CHECK_FALSE(throttle.pass(&held));
}

// logged returns what one warning of text writes to stderr.
std::string logged(const std::string& text) {
  std::FILE* captured = std::tmpfile();
  REQUIRE(captured);
  std::fflush(stderr);
  const int saved = dup(STDERR_FILENO);
  REQUIRE(dup2(fileno(captured), STDERR_FILENO) == STDERR_FILENO);
  log::warning("{}", text);
  std::fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  std::rewind(captured);
  std::string out;
  char chunk[256];
  while (std::fgets(chunk, sizeof chunk, captured)) out += chunk;
  std::fclose(captured);
  return out;
}

TEST_CASE("a log line that is not UTF-8 has its bytes above 0x7f written as \\xNN; UTF-8 stays as it is") {
  CHECK(logged("got '\xff' after caf\xc3\xa9").ends_with("warning: got '\\xff' after caf\\xc3\\xa9\n"));
  CHECK(logged("caf\xc3\xa9").ends_with("warning: caf\xc3\xa9\n"));
}

TEST_CASE("a log line holds no control byte a client sent: each is written as \\xNN") {
  std::FILE* captured = std::tmpfile();
  REQUIRE(captured);
  std::fflush(stderr);
  const int saved = dup(STDERR_FILENO);
  REQUIRE(dup2(fileno(captured), STDERR_FILENO) == STDERR_FILENO);
  log::warning("key {}: refused", std::string("a\nb\r\x1b[2J\x7f\tc\xc3\xa9", 13));
  std::fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  std::rewind(captured);
  char line[256] = {};
  REQUIRE(std::fgets(line, sizeof line, captured));
  const std::string text(line);
  CHECK(text.find("warning: key a\\x0ab\\x0d\\x1b[2J\\x7f\\x09c\xc3\xa9: refused\n") != std::string::npos);
  CHECK_FALSE(std::fgets(line, sizeof line, captured));  // one line
  std::fclose(captured);
}
