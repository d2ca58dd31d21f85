#include "resp/keyspace.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "protocol/json.hpp"
#include "resp/parser.hpp"
#include "resp/value_mapping.hpp"

namespace shmkv::resp {
namespace {

// The most keys looked up in one call to the store: a bound on the lookups
// prepared at once.
constexpr std::size_t kMaxKeys = 1024;
constexpr char kKeyNotText[] = "key is not valid UTF-8: shmkv keys are text, shared with JSON clients";

}  // namespace

Status Keyspace::available() const {
  switch (board_.health.load()) {
    case scoreboard::Health::kOk: return Status::ok();
    case scoreboard::Health::kRecovering: return Status::server(store::kRecovering);
    case scoreboard::Health::kFailed:
      return Status::server(fmt::format("store unavailable: recovery failed: {}", board_.health_detail()));
  }
  return Status::ok();
}

Status Keyspace::get(std::string_view key, std::string* bytes, bool* found) {
  Status s;
  store::Kind kind = store::Kind::kJson;
  {
    InStore in_store(slot_);
    s = store_.get(key, &stored_, &kind);
  }
  *found = s.is_ok();
  if (s.is_not_found()) return Status::ok();
  if (!s) return s;
  value_mapping::to_bytes(stored_, kind, bytes);
  return Status::ok();
}

Status Keyspace::get_many(std::span<const std::string_view> keys, std::size_t max_bytes,
                          std::vector<std::string>* bytes, std::vector<bool>* found, std::size_t* done) {
  // At most kMaxKeys a call, so that a caller that takes a long list a few
  // big values at a time does not prepare the whole rest of it every time.
  keys = keys.first(std::min(keys.size(), kMaxKeys));
  prepare_lookups(keys, true);
  Status s;
  {
    InStore in_store(slot_);
    s = store_.get_some(lookups_.data(), lookups_.size(), max_bytes, done);
  }
  if (!s) return s;
  bytes->resize(*done);
  found->assign(*done, false);
  std::size_t value_bytes = 0;
  for (std::size_t i = 0; i < *done; ++i) {
    (*found)[i] = lookups_[i].found;
    if (!lookups_[i].found) continue;
    value_mapping::to_bytes(lookups_[i].value, lookups_[i].kind, &(*bytes)[i]);
    value_bytes += lookups_[i].value.size();
  }
  release_lookups(value_bytes);
  return Status::ok();
}

// count_present looks keys up kMaxKeys at a time, so that EXISTS with a
// million keys does not prepare a million lookups at once.
Status Keyspace::count_present(std::span<const std::string_view> keys, std::size_t* present) {
  *present = 0;
  for (std::size_t from = 0; from < keys.size(); from += kMaxKeys) {
    prepare_lookups(keys.subspan(from, std::min(kMaxKeys, keys.size() - from)), false);
    Status s;
    {
      InStore in_store(slot_);
      s = store_.get_many(lookups_.data(), lookups_.size());
    }
    if (!s) return s;
    *present += static_cast<std::size_t>(
        std::count_if(lookups_.begin(), lookups_.end(), [](const store::Store::Lookup& l) { return l.found; }));
  }
  return Status::ok();
}

// prepare_lookups keeps each lookup's value buffer, for the next value read
// into it: a run of GETs then allocates nothing.
void Keyspace::prepare_lookups(std::span<const std::string_view> keys, bool values_wanted) {
  lookups_.resize(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    lookups_[i].key = keys[i];
    lookups_[i].found = false;
    lookups_[i].value_wanted = values_wanted;
  }
}

void Keyspace::release_lookups(std::size_t value_bytes) {
  constexpr std::size_t kKeptLookups = 1024, kKeptBytes = std::size_t(1) << 20;
  if (lookups_.size() > kKeptLookups || value_bytes > kKeptBytes) std::vector<store::Store::Lookup>().swap(lookups_);
}

Status Keyspace::put(std::string_view key, std::string_view bytes) {
  // Keys are text to JSON clients, whose KEYS lists every key: a key of
  // bytes that are not UTF-8 is refused (shmkv-protocol(7), RESP values).
  if (!json::is_utf8(key))
    return Status::invalid(kKeyNotText);
  store::PutOptions options;
  options.kind = store::Kind::kBytes;
  Status s;
  {
    InStore in_store(slot_);
    s = store_.put(key, bytes, options);
  }
  if (s) snapshotter::changed(board_);
  return s;
}

Status Keyspace::put_with(std::string_view key, std::string_view bytes, store::PutOptions options, bool* stored) {
  if (!json::is_utf8(key))
    return Status::invalid(kKeyNotText);
  options.kind = store::Kind::kBytes;
  Status s;
  {
    InStore in_store(slot_);
    s = store_.put(key, bytes, options, stored);
  }
  if (s && (!stored || *stored)) snapshotter::changed(board_);
  return s;
}

Status Keyspace::put_many(std::vector<store::Store::Write>* writes) {
  // Usually every key is valid UTF-8 and the writes go to the store as they
  // are; else the valid ones are gathered in valid_, and their statuses
  // brought back.
  bool all_valid = true;
  for (const store::Store::Write& w : *writes) all_valid = all_valid && json::is_utf8(w.key);
  std::vector<store::Store::Write>* to_store = writes;
  if (!all_valid) {
    valid_.clear();
    valid_at_.clear();
    for (std::size_t i = 0; i < writes->size(); ++i) {
      store::Store::Write& w = (*writes)[i];
      if (!json::is_utf8(w.key)) {
        w.status = Status::invalid(kKeyNotText);
        continue;
      }
      valid_.push_back(w);
      valid_at_.push_back(i);
    }
    to_store = &valid_;
  }
  if (to_store->empty()) return Status::ok();
  Status s;
  {
    InStore in_store(slot_);
    s = store_.put_many(to_store->data(), to_store->size(), store::Kind::kBytes);
  }
  if (!s) return s;
  for (const store::Store::Write& w : *to_store)
    if (w.status) snapshotter::changed(board_);
  if (!all_valid)
    for (std::size_t j = 0; j < valid_.size(); ++j) (*writes)[valid_at_[j]].status = std::move(valid_[j].status);
  return Status::ok();
}

Status Keyspace::incr(std::string_view key, std::int64_t by, std::int64_t* result, IncrRefused* refused) {
  *refused = IncrRefused::kNo;
  if (!json::is_utf8(key))
    return Status::invalid(kKeyNotText);
  // Redis's integers are stricter than the store's ("007" and "-0" are not
  // integers to it), and the store's error does not say which of the two
  // it is: the value is read and judged first. A write in between is then
  // judged by the store's rules alone, and its error taken as "not an
  // integer".
  bool found = false;
  if (Status g = get(key, &value_, &found); !g) return g;
  long long current = 0;
  long long sum = 0;
  if (found && !parse_integer(value_, &current)) {
    *refused = IncrRefused::kNotInteger;
    return Status::invalid(fmt::format("the value of {} is not an integer in signed 64-bit range", key));
  }
  if (found && __builtin_add_overflow(current, by, &sum)) {
    *refused = IncrRefused::kOverflow;
    return Status::invalid(fmt::format("{} + {} is outside signed 64-bit range", current, by));
  }
  Status s;
  {
    InStore in_store(slot_);
    s = store_.incr(key, by, result);
  }
  if (s) snapshotter::changed(board_);
  if (s.code() == Status::Code::kInvalid) *refused = IncrRefused::kNotInteger;  // changed meanwhile
  return s;
}

Status Keyspace::expire(std::string_view key, std::int64_t ttl_ms, bool* found) {
  Status s;
  {
    InStore in_store(slot_);
    s = store_.expire(key, ttl_ms);
  }
  if (s) snapshotter::changed(board_);
  *found = s.is_ok();
  return s.is_not_found() ? Status::ok() : s;
}

Status Keyspace::ttl(std::string_view key, std::int64_t* ms_left, bool* found) {
  Status s;
  {
    InStore in_store(slot_);
    s = store_.ttl(key, ms_left);
  }
  *found = s.is_ok();
  return s.is_not_found() ? Status::ok() : s;
}

Status Keyspace::del(std::string_view key, bool* existed) {
  Status s;
  {
    InStore in_store(slot_);
    s = store_.del(key);
  }
  if (s) snapshotter::changed(board_);
  *existed = s.is_ok();
  return s.is_not_found() ? Status::ok() : s;
}

Status Keyspace::scan(std::string_view prefix, const std::string_view* after, std::size_t limit, store::Page* page) {
  InStore in_store(slot_);
  return store_.scan(prefix, after, limit, SIZE_MAX, page);
}

Status Keyspace::scan_buckets(std::uint32_t cursor, std::size_t count, store::Page* page, std::uint32_t* next) {
  InStore in_store(slot_);
  return store_.scan_buckets(cursor, count, page, next);
}

store::Counts Keyspace::counts() {
  InStore in_store(slot_);
  return store_.counts();
}

}  // namespace shmkv::resp
