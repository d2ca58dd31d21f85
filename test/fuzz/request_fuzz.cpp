// libFuzzer target for request parsing and dispatch (src/protocol/request.cpp,
// src/protocol/json.cpp, src/daemon/dispatch.cpp, src/protocol/reply.cpp, src/store/store.cpp): each input is
// one request body, answered by a Dispatcher over an in-process store in
// version 1 and then version 2. Every reply must be one whole frame of the
// request's version whose body is valid JSON with a "status" member, an error
// exactly when the parser refused the body (or INCR refused a value that is
// no integer); a PUT must read back as sent (a conditional one as sent or as
// before), and a KEYS reply of more than one key must fit the maximum message
// size. The store's clock stands still, so that no key expires mid-input.
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

#include <fmt/format.h>
#include <simdjson.h>

#include "daemon/dispatch.hpp"
#include "protocol/frame.hpp"
#include "protocol/json.hpp"
#include "common/log.hpp"
#include "protocol/request.hpp"
#include "daemon/scoreboard.hpp"
#include "store/store.hpp"

using namespace shmkv;

namespace {

constexpr std::size_t kSegmentSize = std::size_t(1) << 20;
// The dispatcher's maximum message size, which bounds KEYS replies: small
// enough that listing the seed keys must be cut into pages.
constexpr std::size_t kMaxMessage = 128;

// The keys every input finds in the store, so that GET, DELETE and KEYS have
// something to find; restored after each input that may have changed them.
struct Seed {
  std::string_view key;
  std::string_view value;  // JSON text
};
constexpr Seed kSeeds[] = {
    {"a", "1"},
    {"colour", R"({"r": 255})"},
    {"user:1", R"("one")"},
    {"user:2", "[1, 2.50, null]"},
    {"snow\xe2\x98\x83", "12345678901234567890123"},
    {"", "true"},
};

// require aborts with a message, so that libFuzzer reports the input.
void require(bool ok, std::string_view what, std::string_view detail = {}) {
  if (ok) return;
  std::fprintf(stderr, "request_fuzz: invariant broken: %.*s\n%.*s\n", int(what.size()), what.data(),
               int(detail.size()), detail.data());
  std::abort();
}

// Fixture is one store, scoreboard and dispatcher for the whole process.
struct Fixture {
  std::unique_ptr<store::Store> store;
  scoreboard::Scoreboard* board = nullptr;
  std::unique_ptr<dispatch::Dispatcher> dispatcher;
  request::Parser parser;  // the harness's own, to know what each input asks
  simdjson::ondemand::parser reply_parser;
  store::Page page;
};
Fixture* g_fixture = nullptr;

// restore_seeds puts the store back to exactly kSeeds.
void restore_seeds(Fixture& f) {
  require(f.store->scan("", nullptr, SIZE_MAX, SIZE_MAX, &f.page).is_ok(), "scan the store");
  for (const std::string& key : f.page.keys) {
    bool seed = false;
    for (const Seed& s : kSeeds) seed = seed || s.key == key;
    if (!seed) require(f.store->del(key).is_ok(), "delete a key the input put");
  }
  for (const Seed& s : kSeeds) require(f.store->put(s.key, s.value).is_ok(), "restore a seed key");
}

// Reply is what check_reply learnt of a reply.
struct Reply {
  std::string status;      // "OK" or "ERROR"
  std::size_t body_size = 0;
  std::size_t keys = 0;    // the keys of a KEYS reply
};

// check_reply checks that out holds exactly one frame of version whose body
// is one valid JSON object with a string "status" member, OK or ERROR.
Reply check_reply(Fixture& f, const std::string& out, std::int32_t version) {
  const frame::DecodeResult r = frame::decode(out, SIZE_MAX);
  require(r.what == frame::Decoded::kMessage, "the reply is a whole frame", out);
  require(r.consumed == out.size(), "the reply is one frame", out);
  require(r.version == version, "the reply has the request's version", out);
  const Status valid = json::check_value(r.body);
  require(valid.is_ok(), "the reply body is valid JSON", fmt::format("{}\n{}", valid.message(), r.body));
  const simdjson::padded_string padded(r.body);
  simdjson::ondemand::document doc;
  std::string_view status;
  const bool found = !f.reply_parser.iterate(padded).get(doc) &&
                     !doc.find_field_unordered("status").get_string().get(status);
  require(found, "the reply body has a string \"status\"", r.body);
  require(status == "OK" || status == "ERROR", "status is OK or ERROR", r.body);
  Reply reply{std::string(status), r.body.size()};
  simdjson::ondemand::array keys;
  if (!doc.at_pointer("/response/response/keys").get_array().get(keys))
    require(!keys.count_elements().get(reply.keys), "a KEYS reply's keys can be counted", r.body);
  return reply;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  log::set_level(log::Level::kError);  // a full store or a bad request is not news here
  auto* f = new Fixture;
  const std::string name = fmt::format("shmkv-fuzz-{}", getpid());
  store::Store::remove(name);
  const Status s = store::Store::open(name, kSegmentSize, &f->store);
  require(s.is_ok(), "open the store", s.message());
  f->store->set_clock([] { return std::int64_t(1'700'000'000'000); });
  // The mapping outlives its name: removing the name now, rather than at exit,
  // leaves nothing behind in /dev/shm even when a crash skips atexit handlers.
  store::Store::remove(name);
  f->board = scoreboard::Scoreboard::create(8);
  require(f->board != nullptr, "create the scoreboard");
  // DEBUG stays off, as in a daemon without --debug-commands: its crash
  // command would abort on purpose. A slot of its own lets the dispatcher
  // mark "in the store" as a worker does.
  dispatch::Dispatcher::Config config;
  config.max_message = kMaxMessage;
  config.slot = &f->board->slot(f->board->reserve(scoreboard::State::kBusy));
  f->dispatcher = std::make_unique<dispatch::Dispatcher>(*f->store, *f->board, config);
  restore_seeds(*f);
  g_fixture = f;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Fixture& f = *g_fixture;
  // The parser reads up to SIMDJSON_PADDING bytes past the body: give it
  // exactly that many, so that AddressSanitizer catches a read beyond them.
  const std::size_t capacity = size + simdjson::SIMDJSON_PADDING;
  const std::unique_ptr<char[]> body(new char[capacity]());
  if (size > 0) std::memcpy(body.get(), data, size);

  request::Request req;
  const Status parsed = f.parser.parse(body.get(), size, capacity, &req);
  const bool changes_store = parsed && (req.func == request::Func::kPut || req.func == request::Func::kDelete ||
                                        req.func == request::Func::kIncr || req.func == request::Func::kExpire);

  for (std::int32_t version : {frame::kVersionOneShot, frame::kVersionPersistent}) {
    std::string before;  // the key's value before this version's run
    const bool existed = parsed && req.func == request::Func::kPut && f.store->get(req.key, &before).is_ok();
    std::string out;
    f.dispatcher->handle({version, body.get(), size, capacity}, out);
    const Reply reply = check_reply(f, out, version);
    if (!parsed) {
      require(reply.status == "ERROR", "a body the parser refuses gets an error", parsed.message());
    } else if (req.func == request::Func::kPut) {
      std::string stored;
      const bool found = f.store->get(req.key, &stored).is_ok();
      if (reply.status == "OK" && req.condition == request::Condition::kAlways)
        require(found && stored == req.value, "a PUT value reads back as sent", stored);
      const bool not_stored = out.find(R"("response": "not stored")") != std::string::npos;
      if (reply.status == "OK" && req.condition != request::Condition::kAlways && !not_stored)
        require(found && stored == req.value, "a conditional PUT that is stored reads back as sent", stored);
      if (reply.status == "OK" && not_stored)
        require(req.condition != request::Condition::kAlways && found == existed && (!found || stored == before),
                "a conditional PUT not stored leaves the key as it was", stored);
    } else if (req.func == request::Func::kIncr && reply.status == "ERROR") {
      require(out.find("signed 64-bit range") != std::string::npos, "INCR fails only on a value or a sum", out);
    } else {
      require(reply.status == "OK", "a well-formed request other than PUT succeeds", out);
    }
    if (parsed && req.func == request::Func::kKeys)
      require(reply.body_size <= kMaxMessage || reply.keys <= 1,
              "a KEYS reply fits the maximum message size unless it holds one key", out);
  }
  if (changes_store) restore_seeds(f);
  return 0;
}
