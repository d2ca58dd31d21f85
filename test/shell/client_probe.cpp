// client_probe: the client library driven from the shell tests (client_test.sh),
// against a live shmkvd or a fake server. It prints what the library returned,
// so that the script can assert it:
//
//   client_probe PORT batch N           N PUTs pipelined, then N GETs pipelined
//                                       on one connection, each reply checked
//   client_probe PORT get KEY           one GET: the value, or the Status
//   client_probe PORT keys PREFIX LIMIT every key under PREFIX, LIMIT a page
//   client_probe PORT delete KEY        DELETE on one connection, GET on another
//
// A failure prints "CODE: message" on stderr and exits 1.
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "shmkv/client.hpp"

namespace {

using shmkv::Status;
using namespace shmkv::client;

const char* code_name(Status::Code code) {
  switch (code) {
    case Status::Code::kOk: return "ok";
    case Status::Code::kNotFound: return "not_found";
    case Status::Code::kInvalid: return "invalid";
    case Status::Code::kTimeout: return "timeout";
    case Status::Code::kIo: return "io";
    case Status::Code::kCorrupt: return "corrupt";
    case Status::Code::kServer: return "server";
    default: return "other";
  }
}

int fail(const Status& s) {
  fmt::print(stderr, "{}: {}\n", code_name(s.code()), s.message());
  return 1;
}

std::unique_ptr<Client> open(std::uint16_t port, Status* s) {
  Endpoint endpoint;
  endpoint.port = port;
  std::unique_ptr<Client> client;
  *s = Client::connect(endpoint, &client);
  return client;
}

std::string value_of(int i) { return fmt::format(R"({{"i": {}, "pad": "{:x>{}}"}})", i, "", i % 50); }

// batch pipelines n PUTs of distinct values, then n GETs of them, and checks
// that every reply is the one for its own request.
int batch(Client& client, int n) {
  Batch puts, gets;
  for (int i = 0; i < n; ++i) {
    if (Status s = puts.put(fmt::format("batch:{}", i), value_of(i)); !s) return fail(s);
    if (Status s = gets.get(fmt::format("batch:{}", i)); !s) return fail(s);
  }
  std::vector<Result> results;
  if (Status s = client.run(puts, &results); !s) return fail(s);
  if (results.size() != static_cast<std::size_t>(n)) return fail(Status::io("wrong number of PUT replies"));
  for (const Result& r : results)
    if (!r.status) return fail(r.status);
  if (Status s = client.run(gets, &results); !s) return fail(s);
  if (results.size() != static_cast<std::size_t>(n)) return fail(Status::io("wrong number of GET replies"));
  for (int i = 0; i < n; ++i) {
    const std::string expected = value_of(i);
    if (!results[i].status) return fail(results[i].status);
    if (results[i].text != expected)
      return fail(Status::corrupt(fmt::format("reply {} is {}, not {}", i, results[i].text, expected)));
  }
  fmt::print("{} PUTs and {} GETs pipelined: {} replies, each in its place\n", n, n, 2 * n);
  return 0;
}

int keys(Client& client, const std::string& prefix, int limit) {
  KeysPage page;
  std::string after;
  int pages = 0;
  do {
    std::optional<std::string_view> cursor;
    if (pages > 0) cursor = after;
    if (Status s = client.keys(prefix, cursor, limit, &page); !s) return fail(s);
    ++pages;
    for (const std::string& key : page.keys) fmt::print("{}\n", key);
    if (!page.keys.empty()) after = page.keys.back();
  } while (page.more);
  fmt::print(stderr, "{} pages\n", pages);
  return 0;
}

int del(Client& client, std::uint16_t port, const std::string& key) {
  Status s;
  std::unique_ptr<Client> other = open(port, &s);
  if (!s) return fail(s);
  std::string value;
  if (s = other->get(key, &value); !s) return fail(s);
  fmt::print("before: {}\n", value);
  if (s = client.del(key); !s) return fail(s);
  s = other->get(key, &value);
  fmt::print("after: {}\n", s.is_not_found() ? "null" : value);
  return s.is_not_found() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fputs("usage: client_probe PORT batch N | get KEY | keys PREFIX LIMIT | delete KEY\n", stderr);
    return 2;
  }
  const auto port = static_cast<std::uint16_t>(std::atoi(argv[1]));
  const std::string command = argv[2];
  Status s;
  std::unique_ptr<Client> client = open(port, &s);
  if (!s) return fail(s);
  if (command == "batch") return batch(*client, std::atoi(argv[3]));
  if (command == "keys" && argc == 5) return keys(*client, argv[3], std::atoi(argv[4]));
  if (command == "delete") return del(*client, port, argv[3]);
  if (command == "get") {
    std::string value;
    if (s = client->get(argv[3], &value); !s) return fail(s);
    fmt::print("{}\n", value);
    return 0;
  }
  std::fputs("client_probe: unknown command\n", stderr);
  return 2;
}
