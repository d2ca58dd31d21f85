// A program of your own that uses shmkv's client library: include
// <shmkv/client.hpp> (include/ in this tree), link build/libshmkv.a with
// -lsimdjson -lfmt -lsystemd -lrt -lpthread. `make examples` builds this one:
//
//   build/examples/client [PORT]     (shmkvd on 127.0.0.1, default port 4444)
//
// It stores and reads a value, pipelines a batch, pages through keys, deletes,
// and reads the server's statistics. Every call returns a Status: check it.
#include <shmkv/client.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using shmkv::Status;
namespace client = shmkv::client;

// check stops the program with the message of a failed call.
static void check(const Status& s, const char* what) {
  if (s) return;
  std::fprintf(stderr, "%s: %s\n", what, s.message().c_str());
  std::exit(1);
}

int main(int argc, char** argv) {
  client::Endpoint server;  // 127.0.0.1:4444, 5 s timeout; socket_path for a UNIX socket
  if (argc > 1) server.port = static_cast<std::uint16_t>(std::atoi(argv[1]));
  std::unique_ptr<client::Client> kv;
  check(client::Client::connect(server, &kv), "connect");

  // Values are JSON text, stored and returned exactly as written.
  check(kv->put("example:greeting", R"({"text": "hello", "n": 1.50})"), "put");
  std::string value;
  check(kv->get("example:greeting", &value), "get");
  std::printf("example:greeting = %s\n", value.c_str());

  // A batch goes out in one write; the replies come back in order.
  client::Batch batch;
  for (int i = 0; i < 10; ++i)
    check(batch.put("example:item:" + std::to_string(i), std::to_string(i * i)), "batch");
  std::vector<client::Result> results;
  check(kv->run(batch, &results), "run");
  int stored = 0;
  for (const client::Result& r : results) stored += r.status.is_ok();
  std::printf("a batch of %zu PUTs: %d stored\n", batch.size(), stored);

  // Keys come a page at a time: pass the last key of a page as the next after.
  client::KeysPage page;
  std::string after;
  int pages = 0, keys = 0;
  do {
    std::optional<std::string_view> cursor;
    if (pages > 0) cursor = after;
    check(kv->keys("example:item:", cursor, 4, &page), "keys");
    ++pages;
    keys += static_cast<int>(page.keys.size());
    if (!page.keys.empty()) after = page.keys.back();
  } while (page.more);
  std::printf("example:item: holds %d keys, in %d pages of at most 4\n", keys, pages);

  // Not found is a result to branch on, not a failure.
  check(kv->del("example:greeting"), "del");
  const Status gone = kv->get("example:greeting", &value);
  std::printf("after del: %s\n", gone.is_not_found() ? gone.message().c_str() : value.c_str());

  std::vector<client::Stat> stats;
  check(kv->stats(&stats), "stats");
  for (const client::Stat& stat : stats)
    if (stat.name == "keys") std::printf("the store holds %s keys\n", stat.value.c_str());
  return 0;
}
