// libFuzzer target for pipelined dispatch (src/daemon/dispatch.cpp's batching of
// GETs, src/store/store.cpp's get_many): each input is several request bodies, one
// per line, as one read of a pipelining client would bring them. They are
// answered twice, over two stores that start alike: as one batch, and one by
// one. The replies must be the same bytes, and the stores must end alike, so
// holding GETs back for a batch never changes an answer or its order. The
// stores' clocks stand still, so that TTL answers and expiries agree.
// Built by `make fuzz`.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include "daemon/dispatch.hpp"
#include "protocol/frame.hpp"
#include "common/log.hpp"
#include "protocol/request.hpp"
#include "daemon/scoreboard.hpp"
#include "store/store.hpp"

using namespace shmkv;

namespace {

constexpr std::size_t kSegmentSize = std::size_t(1) << 20;
constexpr std::size_t kMaxMessages = 100;
constexpr std::string_view kSeedKeys[] = {"a", "b", "user:1", ""};

void require(bool ok, std::string_view what, std::string_view detail = {}) {
  if (ok) return;
  std::fprintf(stderr, "batch_fuzz: invariant broken: %.*s\n%.*s\n", int(what.size()), what.data(),
               int(detail.size()), detail.data());
  std::abort();
}

// Side is one store with its own scoreboard and dispatcher.
struct Side {
  std::unique_ptr<store::Store> store;
  std::unique_ptr<dispatch::Dispatcher> dispatcher;
  store::Page page;

  explicit Side(const std::string& name) {
    store::Store::remove(name);
    const Status s = store::Store::open(name, kSegmentSize, &store);
    require(s.is_ok(), "open a store", s.message());
    store->set_clock([] { return std::int64_t(1'700'000'000'000); });
    store::Store::remove(name);  // the mapping outlives its name
    scoreboard::Scoreboard* board = scoreboard::Scoreboard::create(8);
    require(board != nullptr, "create a scoreboard");
    dispatcher = std::make_unique<dispatch::Dispatcher>(*store, *board, dispatch::Dispatcher::Config{256});
  }

  // reset empties the store and puts the seed keys back.
  void reset() {
    require(store->scan("", nullptr, SIZE_MAX, SIZE_MAX, &page).is_ok(), "scan a store");
    for (const std::string& key : page.keys) require(store->del(key).is_ok(), "delete a key");
    for (std::string_view key : kSeedKeys) require(store->put(key, "[1]").is_ok(), "put a seed key");
  }

  // contents lists every key, value and expiry, for comparing the two stores.
  std::string contents() {
    require(store->scan("", nullptr, SIZE_MAX, SIZE_MAX, &page).is_ok(), "scan a store");
    std::string out;
    std::string value;
    std::int64_t ttl_ms = 0;
    for (const std::string& key : page.keys) {
      require(store->get(key, &value).is_ok(), "get a listed key");
      require(store->ttl(key, &ttl_ms).is_ok(), "ttl of a listed key");
      out += fmt::format("{}={} ttl {}\n", key, value, ttl_ms);
    }
    return out;
  }
};

Side* g_batched = nullptr;
Side* g_single = nullptr;
request::Parser* g_parser = nullptr;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  log::set_level(log::Level::kError);
  g_batched = new Side(fmt::format("shmkv-batch-fuzz-{}-a", getpid()));
  g_single = new Side(fmt::format("shmkv-batch-fuzz-{}-b", getpid()));
  g_parser = new request::Parser(false);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // One padded copy of each line: the parser reads up to SIMDJSON_PADDING
  // bytes past a body.
  std::vector<std::unique_ptr<char[]>> bodies;
  std::vector<dispatch::Message> messages;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (std::size_t start = 0; start <= input.size() && messages.size() < kMaxMessages;) {
    std::size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view line = input.substr(start, end - start);
    const std::size_t capacity = line.size() + simdjson::SIMDJSON_PADDING;
    auto body = std::make_unique<char[]>(capacity);
    if (!line.empty()) std::memcpy(body.get(), line.data(), line.size());
    // STATS answers with counters and the time, which differ between sides.
    request::Request req;
    if (!(g_parser->parse(body.get(), line.size(), capacity, &req).is_ok() && req.func == request::Func::kStats)) {
      messages.push_back({frame::kVersionPersistent, body.get(), line.size(), capacity});
      bodies.push_back(std::move(body));
    }
    start = end + 1;
  }

  g_batched->reset();
  g_single->reset();
  std::string batched;
  g_batched->dispatcher->handle(messages.data(), messages.size(), batched);
  std::string single;
  for (const dispatch::Message& m : messages) g_single->dispatcher->handle(m, single);
  require(batched == single, "a batch is answered as its messages one by one",
          fmt::format("batched:\n{}\none by one:\n{}", batched, single));
  require(g_batched->contents() == g_single->contents(), "a batch leaves the store as its messages one by one");
  return 0;
}
