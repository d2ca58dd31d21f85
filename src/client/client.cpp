#include "shmkv/client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <iterator>
#include <new>

#include "client/printable.hpp"
#include "protocol/base64.hpp"
#include "protocol/frame.hpp"
#include "protocol/json_ondemand.hpp"
#include "common/net.hpp"

namespace shmkv::client {

namespace od = simdjson::ondemand;

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;

// The reply the original server gives to a function it does not know.
constexpr std::string_view kUnknownFunction = "ERROR - Function doesn't exist";

Status check_utf8(std::string_view what, std::string_view text) {
  if (simdjson::validate_utf8(text.data(), text.size())) return Status::ok();
  return Status::invalid(fmt::format("{} is not valid UTF-8", what));
}

std::string seconds(int ms) { return fmt::format("{:g} s", ms / 1000.0); }

// ttl_text writes milliseconds as the seconds a ttl param takes: "1.5" for 1500.
std::string ttl_text(std::int64_t ms) { return fmt::format("{}.{:03}", ms / 1000, ms % 1000); }

// out_of_memory is what a public entry point returns for std::bad_alloc
// (a huge value or reply, a ulimit -v): the library promises not to throw.
Status out_of_memory() { return Status::full("out of memory: the value or reply is too large for this process"); }

Status check_ttl(std::int64_t ms) {
  if (ms >= 1 && ms <= kMaxTtlMs) return Status::ok();
  return Status::invalid("a ttl is from 0.001 to 315360000 seconds (10 years)");
}

}  // namespace

std::string Endpoint::name() const {
  return socket_path.empty() ? net::format_address(host, port) : socket_path;
}

// --- Batch -------------------------------------------------------------------

Status Batch::add(Kind kind, std::string_view func, std::string_view key, std::string_view params) {
  const std::size_t header = frame::begin(bytes_, frame::kVersionPersistent);
  fmt::format_to(std::back_inserter(bytes_), R"({{"func": {}, "params": {}}})", json::Quoted{func}, params);
  const std::size_t length = bytes_.size() - header - frame::kHeaderSize;
  if (length > kMaxMessage) {
    bytes_.resize(header);
    return Status::invalid(fmt::format("a request of {} bytes is larger than any server accepts", length));
  }
  frame::finish(bytes_, header);
  entries_.push_back(Entry{kind, std::string(func), std::string(key)});
  return Status::ok();
}

Status Batch::add_key(Kind kind, std::string_view func, std::string_view key) {
  if (Status s = check_utf8("the key", key); !s) return s;
  return add(kind, func, key, fmt::format(R"({{"obj": {}}})", json::Quoted{key}));
}

Status Batch::get(std::string_view key) try { return add_key(Kind::kGet, "GET", key); } catch (const std::bad_alloc&) { return out_of_memory(); }

Status Batch::get_typed(std::string_view key) try {
  if (Status s = check_utf8("the key", key); !s) return s;
  return add(Kind::kGetTyped, "GET", key, fmt::format(R"({{"obj": {}, "encoding": "base64"}})", json::Quoted{key}));
} catch (const std::bad_alloc&) {
  return out_of_memory();
}

Status Batch::put(std::string_view key, std::string_view value, const PutOptions& options) try {
  if (Status s = check_utf8("the key", key); !s) return s;
  if (Status s = json::check_value(value); !s) return s;
  return put_params(key, fmt::format(R"("val": {})", value), options);
} catch (const std::bad_alloc&) {
  return out_of_memory();
}

Status Batch::put_bytes(std::string_view key, std::string_view bytes, const PutOptions& options) try {
  std::string member = R"("bytes": ")";
  base64::append_encoded(member, bytes);
  member += '"';
  return put_params(key, member, options);
} catch (const std::bad_alloc&) {
  return out_of_memory();
}

Status Batch::put_params(std::string_view key, std::string_view member, const PutOptions& options) {
  if (Status s = check_utf8("the key", key); !s) return s;
  std::string params = fmt::format(R"({{"obj": {}, {})", json::Quoted{key}, member);
  if (options.ttl_ms != 0) {
    if (Status s = check_ttl(options.ttl_ms); !s) return s;
    params += R"(, "ttl": )" + ttl_text(options.ttl_ms);
  }
  if (options.condition == Condition::kIfAbsent) params += R"(, "if": "absent")";
  if (options.condition == Condition::kIfPresent) params += R"(, "if": "present")";
  params += '}';
  return add(Kind::kPut, "PUT", key, params);
}

Status Batch::del(std::string_view key) try { return add_key(Kind::kDel, "DELETE", key); } catch (const std::bad_alloc&) { return out_of_memory(); }

Status Batch::incr(std::string_view key, std::int64_t by) try {
  if (Status s = check_utf8("the key", key); !s) return s;
  return add(Kind::kIncr, "INCR", key, fmt::format(R"({{"obj": {}, "by": {}}})", json::Quoted{key}, by));
} catch (const std::bad_alloc&) {
  return out_of_memory();
}

Status Batch::expire(std::string_view key, std::int64_t ttl_ms) try {
  if (Status s = check_utf8("the key", key); !s) return s;
  if (ttl_ms != 0) {
    if (Status s = check_ttl(ttl_ms); !s) return s;
  }
  return add(Kind::kExpire, "EXPIRE", key,
             fmt::format(R"({{"obj": {}, "ttl": {}}})", json::Quoted{key}, ttl_ms ? ttl_text(ttl_ms) : "null"));
} catch (const std::bad_alloc&) {
  return out_of_memory();
}

Status Batch::ttl(std::string_view key) try { return add_key(Kind::kTtl, "TTL", key); } catch (const std::bad_alloc&) { return out_of_memory(); }

Status Batch::call(std::string_view func, std::string_view params) try {
  if (Status s = check_utf8("the function name", func); !s) return s;
  if (Status s = json::check_value(params); !s) return s;
  return add(Kind::kCall, func, "", params);
} catch (const std::bad_alloc&) {
  return out_of_memory();
}

void Batch::clear() {
  bytes_.clear();
  entries_.clear();
}

// --- The connection ----------------------------------------------------------

Status Client::connect(const Endpoint& endpoint, std::unique_ptr<Client>* out) try {
  std::unique_ptr<Client> client(new Client(endpoint));
  if (Status s = client->open(); !s) return s;
  *out = std::move(client);
  return Status::ok();
} catch (const std::bad_alloc&) {
  return out_of_memory();
}

struct Client::ReplyParser : json::OnDemandParser {};

Client::Client(const Endpoint& endpoint)
    : endpoint_(endpoint), name_(endpoint.name()), parser_(std::make_unique<ReplyParser>()) {}

Client::~Client() { close_connection(); }

Status Client::open() {
  in_.clear();
  if (endpoint_.socket_path.empty())
    return net::connect_tcp(endpoint_.host, endpoint_.port, endpoint_.timeout_ms, &fd_);
  return net::connect_unix(endpoint_.socket_path, endpoint_.timeout_ms, &fd_);
}

void Client::close_connection() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  in_.clear();
}

Status Client::fail(Status s) {
  close_connection();
  return s;
}

// Between calls the server sends nothing, so a connection with something to
// read has been closed by the server (its idle timeout) or has gone wrong;
// either way it is replaced before anything is sent on it.
Status Client::reopen_if_closed() {
  if (fd_ >= 0) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 0) == 0) return Status::ok();
    close_connection();
  }
  return open();
}

Status Client::run(const Batch& batch, std::vector<Result>* results) try {
  results->clear();
  if (batch.entries_.empty()) return Status::ok();
  if (Status s = reopen_if_closed(); !s) return s;
  results->reserve(batch.entries_.size());
  if (Status s = exchange(batch, results); !s) return s;
  // After an error reply the server may close its side (it does after a
  // request it cannot frame); start the next call on a fresh connection
  // rather than race that close.
  if (std::any_of(results->begin(), results->end(),
                  [](const Result& r) { return r.status.code() == Status::Code::kServer; }))
    close_connection();
  return Status::ok();
} catch (const std::bad_alloc&) {
  return fail(out_of_memory());
}

// exchange writes the batch and reads its replies at the same time, so that a
// batch larger than the socket buffers cannot deadlock against a server that
// stops reading while its replies wait to be read. Each wait is bounded by
// the timeout: the server must make progress that often.
Status Client::exchange(const Batch& batch, std::vector<Result>* results) {
  const std::string& out = batch.bytes_;
  const std::size_t expected = batch.entries_.size();
  std::size_t sent = 0;
  bool can_write = true;  // false once the server stopped taking requests
  while (results->size() < expected) {
    if (can_write && sent < out.size()) {
      const ssize_t n = send(fd_, out.data() + sent, out.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n >= 0) sent += static_cast<std::size_t>(n);
      // The server closed its side; a reply it sent first may still be read.
      else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) can_write = false;
    }
    const bool writing = can_write && sent < out.size();
    pollfd p{fd_, static_cast<short>(POLLIN | (writing ? POLLOUT : 0)), 0};
    const int ready = poll(&p, 1, endpoint_.timeout_ms > 0 ? endpoint_.timeout_ms : -1);
    if (ready < 0 && errno != EINTR) return fail(Status::io(errno_text("poll " + name_, errno)));
    if (ready == 0) {
      if (writing)
        return fail(Status::timeout(fmt::format("{} took no request for {}", name_, seconds(endpoint_.timeout_ms))));
      return fail(Status::timeout(fmt::format("no reply from {} within {}", name_, seconds(endpoint_.timeout_ms))));
    }
    if (ready > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
      if (Status s = read_some(results->size(), expected); !s) return s;
      if (Status s = take_replies(batch, results); !s) return s;
    }
  }
  return Status::ok();
}

// read_some appends what the socket has to in_, keeping json::kPadding
// spare bytes of capacity after it for the parser.
Status Client::read_some(std::size_t replies, std::size_t expected) {
  const std::size_t used = in_.size();
  in_.resize(used + kReadChunk + json::kPadding);
  const ssize_t n = recv(fd_, in_.data() + used, kReadChunk, MSG_DONTWAIT);
  const int err = errno;
  in_.resize(used + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
  if (n > 0 || (n < 0 && (err == EAGAIN || err == EWOULDBLOCK || err == EINTR))) return Status::ok();
  if (n < 0) return fail(Status::io(errno_text("read from " + name_, err)));
  if (used > 0) return fail(Status::io(fmt::format("{} closed the connection in the middle of a reply", name_)));
  if (expected == 1) return fail(Status::io(fmt::format("{} closed the connection before replying", name_)));
  return fail(Status::io(fmt::format("{} closed the connection after {} of {} replies", name_, replies, expected)));
}

// take_replies decodes every whole reply at the front of in_ and drops its bytes.
Status Client::take_replies(const Batch& batch, std::vector<Result>* results) {
  std::size_t start = 0;
  Status status;
  while (status && results->size() < batch.entries_.size()) {
    const frame::DecodeResult m = frame::decode(std::string_view(in_).substr(start), kMaxMessage);
    if (m.what == frame::Decoded::kNeedMore) break;
    if (m.what == frame::Decoded::kBadHeader) {
      status = Status::corrupt(fmt::format("{} broke the protocol: {} in a reply header", name_, m.error));
    } else if (m.version != frame::kVersionPersistent) {
      status = Status::corrupt(
          fmt::format("{} broke the protocol: a version-2 request answered in version {}", name_, m.version));
    } else {
      Result result;
      status = decode(batch.entries_[results->size()], start + frame::kHeaderSize, m.body.size(), &result);
      if (status) results->push_back(std::move(result));
      start += m.consumed;
    }
  }
  in_.erase(0, start);
  return status ? status : fail(status);
}

// decode reads the reply body at in_[body_at] into *result. It fails only
// when the reply breaks the protocol; what the server said about the request
// (an error, not found) goes to result->status.
Status Client::decode(const Batch::Entry& entry, std::size_t body_at, std::size_t length, Result* result) {
  const std::string_view body(in_.data() + body_at, length);
  auto broken = [&](std::string_view what) {
    return Status::corrupt(fmt::format("{} broke the protocol: {} in the reply {}", name_, what,
                                       printable(body.substr(0, 200))));
  };
  od::document doc;
  od::object top;
  std::string_view status;
  if (parser_->parser.iterate(body.data(), length, in_.capacity() - body_at).get(doc) || doc.get_object().get(top) ||
      top["status"].get_string().get(status))
    return broken("no status");
  if (entry.kind == Batch::Kind::kCall) result->text.assign(body);
  if (status != "OK") {
    std::string_view message;
    if (top["error"].get_string().get(message)) message = "(no message)";
    // The server's words, made one line of text for whoever prints them.
    result->status = Status::server(fmt::format("{} refused {}: {}", name_, entry.func, printable(message)));
    return Status::ok();
  }
  if (entry.kind == Batch::Kind::kCall) return Status::ok();

  od::object response;
  std::string_view func;
  od::value r;
  if (top["response"].get_object().get(response) || response["func"].get_string().get(func) ||
      response["response"].get(r))
    return broken("no response");
  if (func != entry.func) return broken(fmt::format("a {} reply to {} (out of order?)", func, entry.func));
  od::json_type type;
  std::string_view said;
  if (r.type().get(type)) return broken("no response");
  if (type == od::json_type::string) {
    if (r.get_string().get(said) || said != kUnknownFunction) return broken("an unexpected response");
    result->status = Status::server(fmt::format("{} does not know {}: it needs a newer shmkvd", name_, entry.func));
    return Status::ok();
  }
  std::string_view text;
  switch (entry.kind) {
    case Batch::Kind::kGet: {
      od::value val;
      if (r["val"].get(val) || json::raw_text(val, &text)) return broken("no value");
      // raw_text finds the value's end without checking what is inside.
      if (!json::check_value(text)) return broken("a value that is not JSON");
      if (text == "null") result->status = Status::not_found(fmt::format("{} is not set", json::Quoted{entry.key}));
      else result->text.assign(text);
      return Status::ok();
    }
    case Batch::Kind::kGetTyped: {
      // {"obj": K, "val": V, "kind": "json"}, {"obj": K, "bytes": B64,
      // "kind": "bytes"} or {"obj": K, "val": null, "kind": null}; no kind
      // from a server that predates it (Client::get_typed).
      od::object object;
      if (r.get_object().get(object)) return broken("no object");
      std::string_view kind, val_text, encoded;
      bool has_kind = false, kind_null = false, has_val = false, has_bytes = false;
      for (auto f : object) {
        od::field field;
        std::string_view name;
        if (std::move(f).get(field) || field.unescaped_key().get(name)) return broken("a malformed GET reply");
        od::value v = field.value();
        if (name == "val") {
          if (json::raw_text(v, &val_text)) return broken("no value");
          has_val = true;
        } else if (name == "bytes") {
          if (v.get_string().get(encoded)) return broken("bytes that are not a string");
          has_bytes = true;
        } else if (name == "kind") {
          has_kind = true;
          od::json_type kind_type;
          if (v.type().get(kind_type)) return broken("a malformed kind");
          if (kind_type == od::json_type::null) kind_null = true;
          else if (v.get_string().get(kind) || (kind != "json" && kind != "bytes")) return broken("an unknown kind");
        }
      }
      const bool absent = has_kind ? kind_null : (has_val && val_text == "null");
      if (absent) {
        result->status = Status::not_found(fmt::format("{} is not set", json::Quoted{entry.key}));
        return Status::ok();
      }
      if (has_kind && kind == "bytes") {
        if (!has_bytes || base64::decode(encoded, &result->text).code() != Status::Code::kOk)
          return broken("a bytes value that is not base64");
        result->bytes = true;
        return Status::ok();
      }
      if (!has_val) return broken("no value");
      if (!json::check_value(val_text)) return broken("a value that is not JSON");
      result->text.assign(val_text);
      return Status::ok();
    }
    case Batch::Kind::kPut:
    case Batch::Kind::kDel:
    case Batch::Kind::kExpire:
      if (r["response"].get_string().get(said)) return broken("no response");
      if (said == "ok") return Status::ok();
      if (entry.kind == Batch::Kind::kPut && said == "not stored") {
        result->text.assign(said);
        return Status::ok();
      }
      if (entry.kind == Batch::Kind::kPut || said != "not found") return broken("an unexpected response");
      result->status = Status::not_found(fmt::format("{} is not set", json::Quoted{entry.key}));
      return Status::ok();
    case Batch::Kind::kIncr:
    case Batch::Kind::kTtl: {
      od::value v;
      od::json_type number_type;
      if (r[entry.kind == Batch::Kind::kIncr ? "val" : "ttl"].get(v) || v.type().get(number_type) ||
          number_type != od::json_type::number || json::raw_text(v, &text))
        return broken("no number");
      if (text == "-2") result->status = Status::not_found(fmt::format("{} is not set", json::Quoted{entry.key}));
      else result->text.assign(text);
      return Status::ok();
    }
    case Batch::Kind::kKeys:
    case Batch::Kind::kStats: {
      od::object object;
      if (r.get_object().get(object) || object.raw_json().get(text)) return broken("no object");
      result->text.assign(text);
      return Status::ok();
    }
    case Batch::Kind::kCall: break;
  }
  return Status::ok();
}

// --- Calls -------------------------------------------------------------------

Status Client::single(const Batch& batch, Result* result) {
  std::vector<Result> results;
  const Status s = run(batch, &results);
  if (results.empty()) return s;
  *result = std::move(results.front());
  return result->status;
}

Status Client::get(std::string_view key, std::string* value) try {
  Batch batch;
  if (Status s = batch.get(key); !s) return s;
  Result result;
  if (Status s = single(batch, &result); !s) return s;
  *value = std::move(result.text);
  return Status::ok();
} catch (const std::bad_alloc&) {
  return fail(out_of_memory());
}

Status Client::put(std::string_view key, std::string_view value) try {
  Batch batch;
  if (Status s = batch.put(key, value); !s) return s;
  Result result;
  return single(batch, &result);
} catch (const std::bad_alloc&) {
  return fail(out_of_memory());
}

Status Client::put(std::string_view key, std::string_view value, const PutOptions& options, bool* stored) try {
  *stored = false;
  Batch batch;
  if (Status s = batch.put(key, value, options); !s) return s;
  Result result;
  if (Status s = single(batch, &result); !s) return s;
  *stored = result.text != "not stored";
  return Status::ok();
} catch (const std::bad_alloc&) {
  return fail(out_of_memory());
}

Status Client::get_typed(std::string_view key, std::string* value, bool* bytes) try {
  Batch batch;
  if (Status s = batch.get_typed(key); !s) return s;
  Result result;
  if (Status s = single(batch, &result); !s) return s;
  *value = std::move(result.text);
  *bytes = result.bytes;
  return Status::ok();
} catch (const std::bad_alloc&) {
  return fail(out_of_memory());
}

Status Client::put_bytes(std::string_view key, std::string_view bytes, const PutOptions& options, bool* stored) try {
  if (stored) *stored = false;
  Batch batch;
  if (Status s = batch.put_bytes(key, bytes, options); !s) return s;
  Result result;
  if (Status s = single(batch, &result); !s) return s;
  if (stored) *stored = result.text != "not stored";
  return Status::ok();
} catch (const std::bad_alloc&) {
  return fail(out_of_memory());
}

Status Client::incr(std::string_view key, std::int64_t by, std::int64_t* value) try {
  Batch batch;
  if (Status s = batch.incr(key, by); !s) return s;
  Result result;
  if (Status s = single(batch, &result); !s) return s;
  const auto [end, error] = std::from_chars(result.text.data(), result.text.data() + result.text.size(), *value);
  if (error != std::errc() || end != result.text.data() + result.text.size())
    return fail(Status::corrupt(
        fmt::format("{} broke the protocol: INCR answered {}", name_, printable(result.text.substr(0, 40)))));
  return Status::ok();
} catch (const std::bad_alloc&) {
  return fail(out_of_memory());
}

Status Client::expire(std::string_view key, std::int64_t ttl_ms) try {
  Batch batch;
  if (Status s = batch.expire(key, ttl_ms); !s) return s;
  Result result;
  return single(batch, &result);
} catch (const std::bad_alloc&) {
  return fail(out_of_memory());
}

Status Client::ttl(std::string_view key, std::int64_t* ms_left) try {
  Batch batch;
  if (Status s = batch.ttl(key); !s) return s;
  Result result;
  if (Status s = single(batch, &result); !s) return s;
  double seconds = 0;
  const auto [end, error] = std::from_chars(result.text.data(), result.text.data() + result.text.size(), seconds);
  // Seconds whose milliseconds do not fit an int64 (1e300) are no TTL.
  if (error != std::errc() || end != result.text.data() + result.text.size() || (seconds < 0 && seconds != -1) ||
      !(seconds * 1000 < 9.2e18))
    return fail(Status::corrupt(
        fmt::format("{} broke the protocol: TTL answered {}", name_, printable(result.text.substr(0, 40)))));
  *ms_left = seconds < 0 ? -1 : std::llround(seconds * 1000);
  return Status::ok();
} catch (const std::bad_alloc&) {
  return fail(out_of_memory());
}

Status Client::del(std::string_view key) try {
  Batch batch;
  if (Status s = batch.del(key); !s) return s;
  Result result;
  return single(batch, &result);
} catch (const std::bad_alloc&) {
  return fail(out_of_memory());
}

Status Client::call(std::string_view func, std::string_view params, std::string* reply) try {
  Batch batch;
  if (Status s = batch.call(func, params); !s) return s;
  Result result;
  const Status s = single(batch, &result);
  *reply = std::move(result.text);
  return s;
} catch (const std::bad_alloc&) {
  return fail(out_of_memory());
}

Status Client::keys(std::string_view prefix, std::optional<std::string_view> after, int limit, KeysPage* page) try {
  if (Status s = check_utf8("the prefix", prefix); !s) return s;
  if (after) {
    if (Status s = check_utf8("the after key", *after); !s) return s;
  }
  if (limit < 0) return Status::invalid("the limit of a KEYS page is from 1 to 100000");
  std::string params = fmt::format(R"({{"prefix": {})", json::Quoted{prefix});
  if (after) fmt::format_to(std::back_inserter(params), R"(, "after": {})", json::Quoted{*after});
  if (limit > 0) fmt::format_to(std::back_inserter(params), R"(, "limit": {})", limit);
  params += '}';
  Batch batch;
  if (Status s = batch.add(Batch::Kind::kKeys, "KEYS", "", params); !s) return s;
  Result result;
  if (Status s = single(batch, &result); !s) return s;

  auto broken = [&](std::string_view what) {
    return Status::corrupt(fmt::format("{} broke the protocol: {} in the KEYS response {}", name_, what,
                                       printable(std::string_view(result.text).substr(0, 200))));
  };
  const simdjson::padded_string text(result.text);
  od::document doc;
  od::array keys;
  if (parser_->parser.iterate(text).get(doc) || doc["keys"].get_array().get(keys)) return broken("no keys");
  page->keys.clear();
  for (auto element : keys) {
    std::string_view key;
    if (element.get_string().get(key)) return broken("a key that is not a string");
    if (key.substr(0, prefix.size()) != prefix) return broken("a key without the prefix");
    const std::optional<std::string_view> previous =
        page->keys.empty() ? after : std::optional<std::string_view>(page->keys.back());
    if (previous && key <= *previous) return broken("keys out of order");
    page->keys.emplace_back(key);
  }
  if (doc["more"].get_bool().get(page->more)) return broken("no more");
  if (page->more && page->keys.empty()) return broken("more keys promised on an empty page");
  return Status::ok();
} catch (const std::bad_alloc&) {
  return fail(out_of_memory());
}

Status Client::stats(std::string* object) try {
  Batch batch;
  if (Status s = batch.add(Batch::Kind::kStats, "STATS", "", "{}"); !s) return s;
  Result result;
  if (Status s = single(batch, &result); !s) return s;
  *object = std::move(result.text);
  return Status::ok();
} catch (const std::bad_alloc&) {
  return fail(out_of_memory());
}

Status Client::save(std::string* response) try {
  Batch batch;  // its reply is an object, as STATS' is
  if (Status s = batch.add(Batch::Kind::kStats, "SAVE", "", "{}"); !s) return s;
  Result result;
  if (Status s = single(batch, &result); !s) return s;
  *response = std::move(result.text);
  return Status::ok();
} catch (const std::bad_alloc&) {
  return fail(out_of_memory());
}

Status Client::stats(std::vector<Stat>* stats) try {
  std::string object;
  if (Status s = this->stats(&object); !s) return s;
  const simdjson::padded_string text(object);
  od::document doc;
  od::object members;
  stats->clear();
  if (parser_->parser.iterate(text).get(doc) || doc.get_object().get(members))
    return Status::corrupt(fmt::format("{} sent STATS that are not an object: {}", name_,
                                       printable(std::string_view(object).substr(0, 200))));
  for (auto member : members) {
    od::field field;
    std::string_view name, value;
    if (std::move(member).get(field) || field.unescaped_key().get(name) || json::raw_text(field.value(), &value))
      return Status::corrupt(
          fmt::format("{} sent malformed STATS: {}", name_, printable(std::string_view(object).substr(0, 200))));
    stats->push_back(Stat{std::string(name), std::string(value)});
  }
  return Status::ok();
} catch (const std::bad_alloc&) {
  return fail(out_of_memory());
}

}  // namespace shmkv::client
