// Tests of src/resp/writer.cpp: each reply type's bytes in RESP2 and RESP3.
#include "resp/writer.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace shmkv;

TEST_CASE("RESP2 replies") {
  std::string out;
  resp::Writer w(out);
  w.simple("OK");
  w.error("ERR bad\r\nthing");
  w.integer(-42);
  w.bulk(std::string("a\0b", 3));
  w.null();
  w.null_array();
  w.array(2);
  w.map(2);
  CHECK(out == std::string("+OK\r\n-ERR bad  thing\r\n:-42\r\n$3\r\na\0b\r\n$-1\r\n*-1\r\n*2\r\n*4\r\n", 55));
}

TEST_CASE("RESP3 writes maps and nulls in its own forms") {
  std::string out;
  resp::Writer w(out);
  w.set_protocol(3);
  w.map(2);
  w.null();
  w.null_array();
  w.bulk("");
  CHECK(out == "%2\r\n_\r\n_\r\n$0\r\n\r\n");
}
