#include "resp/commands.hpp"

#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <climits>
#include <ctime>
#include <random>
#include <span>
#include <unordered_set>

#include <fmt/format.h>

#include "common/log.hpp"
#include "resp/glob.hpp"
#include "resp/parser.hpp"
#include "shmkv/version.hpp"

namespace shmkv::resp {
namespace {

// The Redis version shmkvd answers as, in HELLO and INFO: the release whose
// commands and replies shmkv-protocol(7) RESP follows. Clients and exporters
// read it to decide what they may send.
constexpr char kRedisVersion[] = "7.0.0";

constexpr std::size_t kCommandCount = 47;  // the command table's size

constexpr std::size_t kScanPage = 256;  // keys fetched per store call while walking

// The matching work one KEYS or SCAN may do (glob::match's steps): a base no
// sensible pattern reaches, and 64 steps more for each byte of key it
// examines, so that a pattern of up to about 60 bytes never runs out, and a
// long pattern against long keys costs a few times a walk of the keys rather
// than their lengths' product (a 100 KB pattern against a 1 MB key: minutes).
constexpr std::uint64_t kMatchBaseSteps = std::uint64_t(1) << 24;
constexpr std::uint64_t kMatchStepsPerByte = 64;
constexpr char kPatternTooCostly[] = "ERR pattern too costly to match against these keys: use a shorter one";

// match_within answers whether key matches pattern, drawing on *budget
// (kMatchStepsPerByte for key first); false with *over set when it ran out.
bool match_within(std::string_view pattern, std::string_view key, std::uint64_t* budget, bool* over) {
  *budget += kMatchStepsPerByte * (key.size() + 1);
  const glob::Result r = glob::match(pattern, key, budget);
  *over = r == glob::Result::kOverBudget;
  return r == glob::Result::kYes;
}

// ascii_lower lowers A-Z only, as Redis's strcasecmp does in the C locale:
// inline, where std::tolower was a call into libc per byte (2 to 3% of a
// worker's CPU samples under redis-benchmark -c 50, perf).
constexpr char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

bool equals_nocase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

// PackedName is a command name of at most 16 bytes, lower-cased and
// zero-padded into two big-endian words: their order is the names' byte
// order, so find's binary search compares two integers per step instead of
// two strings.
struct PackedName {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  auto operator<=>(const PackedName&) const = default;
};

// pack_name is false for a name that no command has: longer than 16 bytes,
// or holding a NUL (which zero padding could not tell from the name's end).
constexpr bool pack_name(std::string_view name, PackedName* out) {
  if (name.size() > 16) return false;
  std::uint64_t words[2] = {0, 0};
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '\0') return false;
    words[i / 8] |= std::uint64_t(static_cast<unsigned char>(ascii_lower(name[i]))) << (8 * (7 - i % 8));
  }
  *out = {words[0], words[1]};
  return true;
}

// quoted128 is Redis's "%.128s" of a name: at most 128 bytes, up to a NUL.
std::string_view quoted128(std::string_view s) {
  s = s.substr(0, std::min<std::size_t>(s.size(), 128));
  const std::size_t nul = s.find('\0');
  return nul == std::string_view::npos ? s : s.substr(0, nul);
}

constexpr char kNotInteger[] = "ERR value is not an integer or out of range";
constexpr char kSyntax[] = "ERR syntax error";
constexpr char kOverflow[] = "ERR increment or decrement would overflow";

// last_save_time is LASTSAVE's and INFO's rdb_last_save_time: the last
// snapshot's Unix time, or the daemon's start before there is one.
long long last_save_time(const scoreboard::Scoreboard& board) {
  const std::int64_t last = board.snapshot.last_save.load();
  return last ? last : static_cast<long long>(board.started);
}

// valid_client_name says whether name may be a client's name: Redis's
// rule, printable ASCII without spaces.
bool valid_client_name(std::string_view name) {
  return std::all_of(name.begin(), name.end(), [](char c) { return c >= '!' && c <= '~'; });
}
constexpr char kBadClientName[] = "ERR Client names cannot contain spaces, newlines or special characters.";

// bytes_to_human writes a byte count as Redis's INFO does (used_memory_human).
std::string bytes_to_human(std::size_t n) {
  constexpr const char* kUnits[] = {"K", "M", "G", "T", "P"};
  if (n < 1024) return fmt::format("{}B", n);
  double v = n / 1024.0;
  std::size_t unit = 0;
  while (v >= 1024.0 && unit + 1 < std::size(kUnits)) {
    v /= 1024.0;
    ++unit;
  }
  return fmt::format("{:.2f}{}", v, kUnits[unit]);
}

// invalid_expire is Redis's error for an expiry out of range in command
// name; shmkv also refuses one beyond store::kMaxTtlMs (10 years from now).
std::string invalid_expire(std::string_view name) {
  return fmt::format("ERR invalid expire time in '{}' command", name);
}

}  // namespace

// The command table, sorted by name for find's binary search.
const Session::Command* Session::find(std::string_view name) {
  static const std::array<Command, kCommandCount> kCommands = {{
      {"append", 3, true, &Session::append},
      {"bgsave", -1, true, &Session::bgsave},
      {"client", -2, false, &Session::client},
      {"command", -1, false, &Session::command},
      {"config", -2, true, &Session::config},
      {"dbsize", 1, true, &Session::dbsize},
      {"decr", 2, true, &Session::decr},
      {"decrby", 3, true, &Session::decrby},
      {"del", -2, true, &Session::del},
      {"echo", 2, false, &Session::echo},
      {"exists", -2, true, &Session::exists},
      {"expire", -3, true, &Session::expire},
      {"expireat", -3, true, &Session::expireat},
      {"flushall", -1, true, &Session::flushdb},
      {"flushdb", -1, true, &Session::flushdb},
      {"get", 2, true, &Session::get},
      {"getdel", 2, true, &Session::getdel},
      {"getset", 3, true, &Session::getset},
      {"hello", -1, false, &Session::hello},
      {"incr", 2, true, &Session::incr},
      {"incrby", 3, true, &Session::incrby},
      {"info", -1, true, &Session::info},
      {"keys", 2, true, &Session::keys},
      {"lastsave", 1, false, &Session::lastsave},
      {"mget", -2, true, &Session::mget},
      {"mset", -3, true, &Session::mset},
      {"msetnx", -3, true, &Session::msetnx},
      {"persist", 2, true, &Session::persist},
      {"pexpire", -3, true, &Session::pexpire},
      {"pexpireat", -3, true, &Session::pexpireat},
      {"ping", -1, false, &Session::ping},
      {"psetex", 4, true, &Session::psetex},
      {"pttl", 2, true, &Session::pttl},
      {"quit", -1, false, &Session::quit},
      {"randomkey", 1, true, &Session::randomkey},
      {"reset", 1, false, &Session::reset},
      {"save", 1, true, &Session::save},
      {"scan", -2, true, &Session::scan},
      {"select", 2, false, &Session::select},
      {"set", -3, true, &Session::set},
      {"setex", 4, true, &Session::setex},
      {"setnx", 3, true, &Session::setnx},
      {"strlen", 2, true, &Session::strlen},
      {"time", 1, false, &Session::time},
      {"ttl", 2, true, &Session::ttl},
      {"type", 2, true, &Session::type},
      {"unlink", -2, true, &Session::del},
  }};
  static const std::array<PackedName, kCommandCount> kPacked = [] {
    std::array<PackedName, kCommandCount> packed{};
    for (std::size_t i = 0; i < kCommandCount; ++i) pack_name(kCommands[i].name, &packed[i]);
    return packed;
  }();
  PackedName key;
  if (!pack_name(name, &key)) return nullptr;
  const auto it = std::lower_bound(kPacked.begin(), kPacked.end(), key);
  return it != kPacked.end() && *it == key ? &kCommands[static_cast<std::size_t>(it - kPacked.begin())] : nullptr;
}

Session::Session(Keyspace& keyspace, const Config& config, std::string& out)
    : keyspace_(keyspace), config_(config), writer_(out) {}

void Session::begin(Drain drain) {
  drain_ = std::move(drain);
  lost_ = false;
  queued_ = 0;
  queued_sets_ = 0;
  writer_.set_protocol(2);
  name_.clear();
  // Unique in the daemon: this worker's pid and its count of connections.
  id_ = (static_cast<std::uint64_t>(getpid()) << 24) | (++served_ & 0xffffff);
}

Session::After Session::execute(const Args& args) {
  const Command* c = find(args[0]);
  if (c && c->run == &Session::get && args.size() == 2 && keyspace_.available().is_ok()) {
    flush_sets();
    if (queued_ == kMaxQueuedGets) flush_gets();
    if (queued_ == queued_keys_.size()) queued_keys_.emplace_back();
    queued_keys_[queued_++].assign(args[1]);
    return After::kContinue;
  }
  if (c && c->run == &Session::set && args.size() == 3 && args[1].size() + args[2].size() <= kMaxQueuedSetBytes &&
      keyspace_.available().is_ok()) {
    flush_gets();
    if (queued_sets_ == kMaxQueuedSets) flush_sets();
    if (queued_sets_ == set_keys_.size()) {
      set_keys_.emplace_back();
      set_values_.emplace_back();
    }
    set_keys_[queued_sets_].assign(args[1]);
    set_values_[queued_sets_++].assign(args[2]);
    return After::kContinue;
  }
  flush();
  if (!c) {
    // Redis's words exactly: go-redis falls back from HELLO on this text.
    std::string text = fmt::format("ERR unknown command '{}', with args beginning with: ", quoted128(args[0]));
    std::string shown;
    for (std::size_t i = 1; i < args.size() && shown.size() < 128; ++i)
      shown += fmt::format("'{}' ", quoted128(args[i].substr(0, 128 - shown.size())));
    writer_.error(text + shown);
    return After::kContinue;
  }
  const int n = static_cast<int>(args.size());
  if ((c->arity > 0 && n != c->arity) || (c->arity < 0 && n < -c->arity)) {
    writer_.error(fmt::format("ERR wrong number of arguments for '{}' command", c->name));
    return After::kContinue;
  }
  if (c->uses_store) {
    if (Status s = keyspace_.available(); !s) {
      writer_.error("ERR " + s.message());
      return After::kContinue;
    }
  }
  return (this->*(c->run))(args);
}

void Session::flush() {
  flush_gets();
  flush_sets();
}

// The GETs are looked up a reply budget at a time (a quarter of the reply
// limit), each part's replies sent before the next is read once they reach
// the limit: 64 GETs of a 1 MiB value take a few MiB, not 64.
void Session::flush_gets() {
  if (queued_ == 0) return;
  queued_views_.assign(queued_keys_.begin(), queued_keys_.begin() + static_cast<std::ptrdiff_t>(queued_));
  queued_ = 0;
  const std::span<const std::string_view> keys(queued_views_);
  std::size_t done = 0;
  for (std::size_t from = 0; from < keys.size(); from += done) {
    if (Status s = keyspace_.get_many(keys.subspan(from), config_.reply_limit / 4, &values_, &found_, &done); !s) {
      for (std::size_t i = from; i < keys.size(); ++i) store_error(s);
      break;
    }
    for (std::size_t i = 0; i < done; ++i) {
      if (found_[i]) writer_.bulk(values_[i]);
      else writer_.null();
    }
    if (!drain()) return;
  }
  release_values();
}

bool Session::drain() {
  if (lost_) return false;
  if (!drain_ || writer_.buffer().size() < config_.reply_limit) return true;
  lost_ = !drain_();
  return !lost_;
}

void Session::release_values() {
  constexpr std::size_t kKeptBytes = std::size_t(1) << 20;
  std::size_t bytes = 0;
  for (const std::string& v : values_) bytes += v.capacity();
  if (bytes > kKeptBytes) std::vector<std::string>().swap(values_);
}

// A plain SET's reply, as set gives it: +OK, or the store's error.
void Session::flush_sets() {
  if (queued_sets_ == 0) return;
  writes_.resize(queued_sets_);
  for (std::size_t i = 0; i < queued_sets_; ++i) writes_[i] = {set_keys_[i], set_values_[i], Status::ok()};
  queued_sets_ = 0;
  if (Status s = keyspace_.put_many(&writes_); !s) {
    for (std::size_t i = 0; i < writes_.size(); ++i) store_error(s);
    return;
  }
  for (const store::Store::Write& w : writes_) {
    if (w.status) writer_.simple("OK");
    else store_error(w.status);
  }
}

void Session::store_error(const Status& s) {
  if (s.code() == Status::Code::kFull) {
    // At most 10 lines per 10 s in a worker: a client may repeat it at will.
    static log::Throttle throttle;
    throttle.warning("RESP: store is full");
    writer_.error("OOM command not allowed when used memory > 'maxmemory'.");
    return;
  }
  // A refusal during a recovery is the parent's to log, once; a key that
  // is not text is the client's error, not the daemon's.
  if (store::recovering(s) || s.code() == Status::Code::kInvalid)
    log::debug("RESP: {}", s.message());
  else
    log::error("RESP: {}", s.message());
  writer_.error("ERR " + s.message());
}

void Session::unknown_subcommand(std::string_view sub, std::string_view command) {
  writer_.error(fmt::format("ERR unknown subcommand '{}'. Try {} HELP.", quoted128(sub), command));
}

// help answers a HELP subcommand as Redis does: one status line each, the
// usage line first and HELP's own description last.
void Session::help(std::string_view usage, std::initializer_list<std::string_view> lines) {
  writer_.array(lines.size() + 3);
  writer_.simple(usage);
  for (std::string_view line : lines) writer_.simple(line);
  writer_.simple("HELP");
  writer_.simple("    Print this help.");
}

// Connection commands.

Session::After Session::ping(const Args& a) {
  if (a.size() > 2) {
    writer_.error("ERR wrong number of arguments for 'ping' command");
  } else if (a.size() == 2) {
    writer_.bulk(a[1]);
  } else {
    writer_.simple("PONG");
  }
  return After::kContinue;
}

Session::After Session::echo(const Args& a) {
  writer_.bulk(a[1]);
  return After::kContinue;
}

Session::After Session::quit(const Args&) {
  writer_.simple("OK");
  return After::kClose;
}

// hello switches the protocol (2 or 3) and answers the server's description
// as a map: a RESP3 map after HELLO 3, a flat array in RESP2.
Session::After Session::hello(const Args& a) {
  int protocol = writer_.protocol();
  std::size_t i = 1;
  if (a.size() >= 2) {
    long long v = 0;
    if (!parse_integer(a[1], &v)) {
      writer_.error("ERR Protocol version is not an integer or out of range");
      return After::kContinue;
    }
    if (v != 2 && v != 3) {
      writer_.error("NOPROTO unsupported protocol version");
      return After::kContinue;
    }
    protocol = static_cast<int>(v);
    i = 2;
  }
  std::string name = name_;
  for (; i < a.size(); ++i) {
    if (equals_nocase(a[i], "setname") && i + 1 < a.size()) {
      name = a[++i];
      if (!valid_client_name(name)) {  // refused whole: protocol and name stay
        writer_.error(kBadClientName);
        return After::kContinue;
      }
    } else if (equals_nocase(a[i], "auth") && i + 2 < a.size()) {
      writer_.error("ERR AUTH is not supported: access to shmkvd is its bind address and its socket's mode");
      return After::kContinue;
    } else {
      writer_.error(fmt::format("ERR Syntax error in HELLO option '{}'", quoted128(a[i])));
      return After::kContinue;
    }
  }
  name_ = name;
  writer_.set_protocol(protocol);
  writer_.map(7);
  writer_.bulk("server");
  writer_.bulk("redis");
  writer_.bulk("version");
  writer_.bulk(kRedisVersion);
  writer_.bulk("proto");
  writer_.integer(protocol);
  writer_.bulk("id");
  writer_.integer(static_cast<long long>(id_));
  writer_.bulk("mode");
  writer_.bulk("standalone");
  writer_.bulk("role");
  writer_.bulk("master");
  writer_.bulk("modules");
  writer_.array(0);
  return After::kContinue;
}

Session::After Session::select(const Args& a) {
  long long db = 0;
  if (!parse_integer(a[1], &db)) writer_.error(kNotInteger);
  else if (db != 0) writer_.error("ERR DB index is out of range");  // one keyspace: database 0
  else writer_.simple("OK");
  return After::kContinue;
}

Session::After Session::client(const Args& a) {
  const std::string sub = lower(a[1]);
  if (sub == "setname" && a.size() == 3) {
    if (!valid_client_name(a[2])) {
      writer_.error(kBadClientName);
      return After::kContinue;
    }
    name_ = a[2];
    writer_.simple("OK");
  } else if (sub == "getname" && a.size() == 2) {
    if (name_.empty()) writer_.null();
    else writer_.bulk(name_);
  } else if (sub == "id" && a.size() == 2) {
    writer_.integer(static_cast<long long>(id_));
  } else if (sub == "setinfo" && a.size() == 4) {
    // Redis 7.2's checks and words (it added SETINFO), the option as given.
    if (!equals_nocase(a[2], "lib-name") && !equals_nocase(a[2], "lib-ver"))
      writer_.error(fmt::format("ERR Unrecognized option '{}'", quoted128(a[2])));
    else if (!valid_client_name(a[3]))
      writer_.error(fmt::format("ERR {} cannot contain spaces, newlines or special characters.", a[2]));
    else
      writer_.simple("OK");
  } else if (sub == "help" && a.size() == 2) {
    help("CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
         {"GETNAME", "    Return the name of the current connection.", "ID",
          "    Return the ID of the current connection.", "SETINFO <option> <value>",
          "    Set client meta attr. Options are: LIB-NAME, LIB-VER (accepted, not kept).", "SETNAME <name>",
          "    Assign the name <name> to the current connection."});
  } else if (sub == "setname" || sub == "getname" || sub == "id" || sub == "setinfo" || sub == "help") {
    writer_.error(fmt::format("ERR wrong number of arguments for 'client|{}' command", sub));
  } else {
    unknown_subcommand(a[1], "CLIENT");
  }
  return After::kContinue;
}

// command answers COMMAND minimally: no command descriptions (an empty list
// and an empty DOCS map, which redis-cli accepts and then offers no hints),
// and COUNT.
Session::After Session::command(const Args& a) {
  if (a.size() == 1) {
    writer_.array(0);
    return After::kContinue;
  }
  const std::string sub = lower(a[1]);
  if (sub == "count" && a.size() == 2) writer_.integer(static_cast<long long>(kCommandCount));
  else if (sub == "docs") writer_.map(0);
  else if (sub == "help" && a.size() == 2)
    help("COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
         {"(no subcommand)", "    Return an empty list: shmkvd describes no commands.", "COUNT",
          "    Return the total number of commands in this server.", "DOCS [<command-name> ...]",
          "    Return an empty map: shmkvd documents its commands in shmkv-protocol(7)."});
  else if (sub == "count" || sub == "help")
    writer_.error(fmt::format("ERR wrong number of arguments for 'command|{}' command", sub));
  else unknown_subcommand(a[1], "COMMAND");
  return After::kContinue;
}

Session::After Session::reset(const Args&) {
  writer_.set_protocol(2);
  name_.clear();
  writer_.simple("RESET");
  return After::kContinue;
}

// String commands. A value is the bytes a RESP GET returns (value_mapping).

Session::After Session::get(const Args& a) {
  bool found = false;
  if (Status s = keyspace_.get(a[1], &value_, &found); !s) store_error(s);
  else if (!found) writer_.null();
  else writer_.bulk(value_);
  return After::kContinue;
}

// set answers SET with Redis 7's options: NX|XX, GET, and one of
// EX|PX|EXAT|PXAT|KEEPTTL (the same one repeated: the last counts). GET
// and KEEPTTL read before the write, so they are not atomic with it: a
// write by another client in between may be what GET returns or what
// KEEPTTL keeps the expiry of.
Session::After Session::set(const Args& a) {
  enum : unsigned { kNx = 1, kXx = 2, kGet = 4, kKeepTtl = 8, kEx = 16, kPx = 32, kExAt = 64, kPxAt = 128 };
  constexpr unsigned kUnits = kEx | kPx | kExAt | kPxAt;
  unsigned flags = 0;
  std::string_view when_text;
  for (std::size_t i = 3; i < a.size(); ++i) {
    const std::string_view opt = a[i];
    const bool has_next = i + 1 < a.size();
    unsigned unit = 0;
    if (equals_nocase(opt, "ex")) unit = kEx;
    else if (equals_nocase(opt, "px")) unit = kPx;
    else if (equals_nocase(opt, "exat")) unit = kExAt;
    else if (equals_nocase(opt, "pxat")) unit = kPxAt;
    if (equals_nocase(opt, "nx") && !(flags & kXx)) {
      flags |= kNx;
    } else if (equals_nocase(opt, "xx") && !(flags & kNx)) {
      flags |= kXx;
    } else if (equals_nocase(opt, "get")) {
      flags |= kGet;
    } else if (equals_nocase(opt, "keepttl") && !(flags & kUnits)) {
      flags |= kKeepTtl;
    } else if (unit && !(flags & kKeepTtl) && !(flags & (kUnits & ~unit)) && has_next) {
      flags |= unit;
      when_text = a[++i];
    } else {
      writer_.error(kSyntax);
      return After::kContinue;
    }
  }
  std::int64_t ttl_ms = 0;
  if (flags & kUnits) {
    long long when = 0;
    if (!parse_integer(when_text, &when)) {
      writer_.error(kNotInteger);
      return After::kContinue;
    }
    const bool seconds = flags & (kEx | kExAt);
    if (when <= 0 || (seconds && when > LLONG_MAX / 1000)) {
      writer_.error(invalid_expire("set"));
      return After::kContinue;
    }
    if (seconds) when *= 1000;
    ttl_ms = (flags & (kExAt | kPxAt)) ? when - keyspace_.now_ms() : when;
    if (ttl_ms > store::kMaxTtlMs) {
      writer_.error(invalid_expire("set"));
      return After::kContinue;
    }
    if (ttl_ms <= 0) ttl_ms = -1;  // a time already past: stored and at once gone
  }
  bool had = false;
  if (flags & kGet) {
    if (Status s = keyspace_.get(a[1], &value_, &had); !s) {
      store_error(s);
      return After::kContinue;
    }
  }
  if (flags & kKeepTtl) {
    if (Status s = expiry_left(a[1], &ttl_ms); !s) {
      store_error(s);
      return After::kContinue;
    }
  }
  const store::Condition condition = (flags & kNx)   ? store::Condition::kIfAbsent
                                     : (flags & kXx) ? store::Condition::kIfPresent
                                                     : store::Condition::kAlways;
  bool stored = false;
  if (Status s = put_expiring(a[1], a[2], ttl_ms, condition, &stored); !s) {
    store_error(s);
    return After::kContinue;
  }
  if (flags & kGet) {
    if (had) writer_.bulk(value_);
    else writer_.null();
  } else if (stored) {
    writer_.simple("OK");
  } else {
    writer_.null();
  }
  return After::kContinue;
}

Status Session::expiry_left(std::string_view key, std::int64_t* ttl_ms) {
  bool found = false;
  std::int64_t left = -1;
  if (Status s = keyspace_.ttl(key, &left, &found); !s) return s;
  *ttl_ms = found && left >= 0 ? std::max<std::int64_t>(left, 1) : 0;
  return Status::ok();
}

Status Session::put_expiring(std::string_view key, std::string_view value, std::int64_t ttl_ms,
                             store::Condition condition, bool* stored) {
  store::PutOptions options;
  options.ttl_ms = std::max<std::int64_t>(ttl_ms, 0);
  options.condition = condition;
  if (Status s = keyspace_.put_with(key, value, options, stored); !s) return s;
  if (ttl_ms < 0 && *stored) {
    bool existed = false;
    return keyspace_.del(key, &existed);
  }
  return Status::ok();
}

Session::After Session::setnx(const Args& a) {
  store::PutOptions options;
  options.condition = store::Condition::kIfAbsent;
  bool stored = false;
  if (Status s = keyspace_.put_with(a[1], a[2], options, &stored); !s) store_error(s);
  else writer_.integer(stored ? 1 : 0);
  return After::kContinue;
}

// setex_generic answers SETEX (unit_ms 1000) and PSETEX (unit_ms 1).
void Session::setex_generic(const Args& a, std::int64_t unit_ms, std::string_view name) {
  long long n = 0;
  if (!parse_integer(a[2], &n)) {
    writer_.error(kNotInteger);
  } else if (n <= 0 || n > store::kMaxTtlMs / unit_ms) {
    writer_.error(invalid_expire(name));
  } else {
    store::PutOptions options;
    options.ttl_ms = n * unit_ms;
    bool stored = false;
    if (Status s = keyspace_.put_with(a[1], a[3], options, &stored); !s) store_error(s);
    else writer_.simple("OK");
  }
}

Session::After Session::setex(const Args& a) {
  setex_generic(a, 1000, "setex");
  return After::kContinue;
}

Session::After Session::psetex(const Args& a) {
  setex_generic(a, 1, "psetex");
  return After::kContinue;
}

// msetnx checks that no key exists, then stores each pair only if its key
// is still absent. Not atomic, unlike Redis's: a key another client writes
// between the check and the stores is kept, and the other pairs are stored
// (the reply is then 0); another client may see some pairs before the others.
Session::After Session::msetnx(const Args& a) {
  if (a.size() % 2 == 0) {
    writer_.error("ERR wrong number of arguments for 'msetnx' command");
    return After::kContinue;
  }
  Args keys;
  for (std::size_t i = 1; i < a.size(); i += 2) keys.push_back(a[i]);
  std::size_t present = 0;
  if (Status s = keyspace_.count_present(keys, &present); !s) {
    store_error(s);
    return After::kContinue;
  }
  if (present > 0) {
    writer_.integer(0);
    return After::kContinue;
  }
  store::PutOptions options;
  options.condition = store::Condition::kIfAbsent;
  bool all = true;
  // A key given twice gets its last value, as in Redis: only its last pair
  // is stored.
  std::vector<bool> last(a.size(), false);
  {
    std::unordered_set<std::string_view> seen;
    for (std::size_t i = a.size(); i > 1;) {
      i -= 2;
      last[i] = seen.insert(a[i]).second;
    }
  }
  for (std::size_t i = 1; i < a.size(); i += 2) {
    if (!last[i]) continue;
    bool stored = false;
    if (Status s = keyspace_.put_with(a[i], a[i + 1], options, &stored); !s) {
      store_error(s);
      return After::kContinue;
    }
    all = all && stored;
  }
  writer_.integer(all ? 1 : 0);
  return After::kContinue;
}

void Session::incr_by(std::string_view key, long long by) {
  std::int64_t result = 0;
  Keyspace::IncrRefused refused = Keyspace::IncrRefused::kNo;
  const Status s = keyspace_.incr(key, by, &result, &refused);
  if (refused == Keyspace::IncrRefused::kOverflow) writer_.error(kOverflow);
  else if (refused == Keyspace::IncrRefused::kNotInteger) writer_.error(kNotInteger);
  else if (!s) store_error(s);
  else writer_.integer(result);
}

Session::After Session::incr(const Args& a) {
  incr_by(a[1], 1);
  return After::kContinue;
}

Session::After Session::decr(const Args& a) {
  incr_by(a[1], -1);
  return After::kContinue;
}

Session::After Session::incrby(const Args& a) {
  long long by = 0;
  if (!parse_integer(a[2], &by)) writer_.error(kNotInteger);
  else incr_by(a[1], by);
  return After::kContinue;
}

Session::After Session::decrby(const Args& a) {
  long long by = 0;
  if (!parse_integer(a[2], &by)) writer_.error(kNotInteger);
  else if (by == LLONG_MIN) writer_.error("ERR decrement would overflow");
  else incr_by(a[1], -by);
  return After::kContinue;
}

// expire_generic follows Redis 7's expireGenericCommand: the options
// NX|XX|GT|LT, a time in the past deletes the key (reply 1), an absent key
// is 0. The current expiry is read before it is changed, so the options
// are not atomic with the change.
void Session::expire_generic(const Args& a, bool seconds, bool absolute, std::string_view name) {
  enum : unsigned { kNx = 1, kXx = 2, kGt = 4, kLt = 8 };
  unsigned flags = 0;
  for (std::size_t i = 3; i < a.size(); ++i) {
    if (equals_nocase(a[i], "nx")) flags |= kNx;
    else if (equals_nocase(a[i], "xx")) flags |= kXx;
    else if (equals_nocase(a[i], "gt")) flags |= kGt;
    else if (equals_nocase(a[i], "lt")) flags |= kLt;
    else {
      writer_.error(fmt::format("ERR Unsupported option {}", quoted128(a[i])));
      return;
    }
  }
  if ((flags & kNx) && (flags & (kXx | kGt | kLt))) {
    writer_.error("ERR NX and XX, GT or LT options at the same time are not compatible");
    return;
  }
  if ((flags & kGt) && (flags & kLt)) {
    writer_.error("ERR GT and LT options at the same time are not compatible");
    return;
  }
  long long when = 0;
  if (!parse_integer(a[2], &when)) {
    writer_.error(kNotInteger);
    return;
  }
  if (seconds) {
    if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) {
      writer_.error(invalid_expire(name));
      return;
    }
    when *= 1000;
  }
  const std::int64_t ttl_ms = absolute ? (when < LLONG_MIN + keyspace_.now_ms() ? LLONG_MIN : when - keyspace_.now_ms())
                                       : when;
  if (ttl_ms > store::kMaxTtlMs) {
    writer_.error(invalid_expire(name));
    return;
  }
  bool found = false;
  std::int64_t left = -1;
  if (Status s = keyspace_.ttl(a[1], &left, &found); !s) {
    store_error(s);
    return;
  }
  if (!found) {
    writer_.integer(0);
    return;
  }
  const bool refused = ((flags & kNx) && left >= 0) || ((flags & kXx) && left < 0) ||
                       ((flags & kGt) && (left < 0 || ttl_ms <= left)) ||
                       ((flags & kLt) && left >= 0 && ttl_ms >= left);
  if (refused) {
    writer_.integer(0);
    return;
  }
  Status s;
  if (ttl_ms <= 0) s = keyspace_.del(a[1], &found);
  else s = keyspace_.expire(a[1], ttl_ms, &found);
  if (!s) store_error(s);
  else writer_.integer(found ? 1 : 0);
}

Session::After Session::expire(const Args& a) {
  expire_generic(a, true, false, "expire");
  return After::kContinue;
}

Session::After Session::pexpire(const Args& a) {
  expire_generic(a, false, false, "pexpire");
  return After::kContinue;
}

Session::After Session::expireat(const Args& a) {
  expire_generic(a, true, true, "expireat");
  return After::kContinue;
}

Session::After Session::pexpireat(const Args& a) {
  expire_generic(a, false, true, "pexpireat");
  return After::kContinue;
}

// ttl_generic answers -2 for an absent key, -1 for one that never expires,
// else the time left: TTL rounds it to the nearest second, as Redis does.
void Session::ttl_generic(std::string_view key, bool seconds) {
  bool found = false;
  std::int64_t left = -1;
  if (Status s = keyspace_.ttl(key, &left, &found); !s) store_error(s);
  else if (!found) writer_.integer(-2);
  else if (left < 0) writer_.integer(-1);
  else writer_.integer(seconds ? (left + 500) / 1000 : left);
}

Session::After Session::ttl(const Args& a) {
  ttl_generic(a[1], true);
  return After::kContinue;
}

Session::After Session::pttl(const Args& a) {
  ttl_generic(a[1], false);
  return After::kContinue;
}

// persist reads the expiry, then removes it: 1 when there was one.
Session::After Session::persist(const Args& a) {
  bool found = false;
  std::int64_t left = -1;
  if (Status s = keyspace_.ttl(a[1], &left, &found); !s) {
    store_error(s);
    return After::kContinue;
  }
  if (!found || left < 0) {
    writer_.integer(0);
    return After::kContinue;
  }
  if (Status s = keyspace_.expire(a[1], 0, &found); !s) store_error(s);
  else writer_.integer(found ? 1 : 0);
  return After::kContinue;
}

// mget looks its keys up as flush_gets does, a reply budget at a time, so
// that naming one big key many times costs the worker a few times the reply
// limit, not the whole reply; unlike Redis's, it is atomic only while its
// keys fit one lock hold (32 keys, and the budget).
Session::After Session::mget(const Args& a) {
  const std::span<const std::string_view> keys(a.begin() + 1, a.end());
  std::size_t done = 0;
  for (std::size_t from = 0; from < keys.size(); from += done) {
    if (Status s = keyspace_.get_many(keys.subspan(from), config_.reply_limit / 4, &values_, &found_, &done); !s) {
      if (from == 0) {
        store_error(s);
        return After::kContinue;
      }
      // The array begun cannot be finished: the client learns from the
      // connection's end rather than from a reply of the wrong length.
      log::warning("RESP: MGET cut short, closing the connection: {}", s.message());
      lost_ = true;
      return After::kClose;
    }
    if (from == 0) writer_.array(keys.size());
    for (std::size_t i = 0; i < done; ++i) {
      if (found_[i]) writer_.bulk(values_[i]);
      else writer_.null();
    }
    if (!drain()) return After::kClose;
  }
  release_values();
  return After::kContinue;
}

// mset stores each pair in turn: not atomic (another client may see some
// pairs stored before the others); a full store stops it part-way.
Session::After Session::mset(const Args& a) {
  if (a.size() % 2 == 0) {
    writer_.error("ERR wrong number of arguments for 'mset' command");
    return After::kContinue;
  }
  for (std::size_t i = 1; i < a.size(); i += 2) {
    if (Status s = keyspace_.put(a[i], a[i + 1]); !s) {
      store_error(s);
      return After::kContinue;
    }
  }
  writer_.simple("OK");
  return After::kContinue;
}

Session::After Session::strlen(const Args& a) {
  bool found = false;
  if (Status s = keyspace_.get(a[1], &value_, &found); !s) store_error(s);
  else writer_.integer(found ? static_cast<long long>(value_.size()) : 0);
  return After::kContinue;
}

// append reads the value and its expiry, appends and stores with the same
// expiry: not atomic against another client's write of the same key
// between the two.
Session::After Session::append(const Args& a) {
  bool found = false;
  if (Status s = keyspace_.get(a[1], &value_, &found); !s) {
    store_error(s);
    return After::kContinue;
  }
  if (!found) value_.clear();
  // No value grows past what a SET may store (--max-message), as Redis
  // bounds APPEND by proto-max-bulk-len: else GETs of it could not be
  // bounded either.
  if (value_.size() + a[2].size() > config_.max_value) {
    writer_.error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    return After::kContinue;
  }
  value_.append(a[2]);
  store::PutOptions options;
  if (Status s = expiry_left(a[1], &options.ttl_ms); !s) {
    store_error(s);
    return After::kContinue;
  }
  bool stored = false;
  if (Status s = keyspace_.put_with(a[1], value_, options, &stored); !s) store_error(s);
  else writer_.integer(static_cast<long long>(value_.size()));
  return After::kContinue;
}

Session::After Session::getset(const Args& a) {
  bool found = false;
  if (Status s = keyspace_.get(a[1], &value_, &found); !s) {
    store_error(s);
    return After::kContinue;
  }
  if (Status s = keyspace_.put(a[1], a[2]); !s) {
    store_error(s);
    return After::kContinue;
  }
  if (found) writer_.bulk(value_);
  else writer_.null();
  return After::kContinue;
}

Session::After Session::getdel(const Args& a) {
  bool found = false, existed = false;
  if (Status s = keyspace_.get(a[1], &value_, &found); !s) {
    store_error(s);
    return After::kContinue;
  }
  if (Status s = keyspace_.del(a[1], &existed); !s) {
    store_error(s);
    return After::kContinue;
  }
  // Another client may have deleted it in between: then it was its value.
  if (found && existed) writer_.bulk(value_);
  else writer_.null();
  return After::kContinue;
}

// Key commands.

Session::After Session::del(const Args& a) {
  long long removed = 0;
  for (std::size_t i = 1; i < a.size(); ++i) {
    bool existed = false;
    if (Status s = keyspace_.del(a[i], &existed); !s) {
      store_error(s);
      return After::kContinue;
    }
    removed += existed;
  }
  writer_.integer(removed);
  return After::kContinue;
}

Session::After Session::exists(const Args& a) {
  std::size_t present = 0;
  if (Status s = keyspace_.count_present(std::span<const std::string_view>(a.begin() + 1, a.end()), &present); !s) {
    store_error(s);
    return After::kContinue;
  }
  writer_.integer(static_cast<long long>(present));
  return After::kContinue;
}

Session::After Session::type(const Args& a) {
  bool found = false;
  if (Status s = keyspace_.get(a[1], &value_, &found); !s) store_error(s);
  else writer_.simple(found ? "string" : "none");
  return After::kContinue;
}

// keys walks the ordered key space from the pattern's literal prefix.
Session::After Session::keys(const Args& a) {
  const std::string_view pattern = a[1];
  const std::string_view prefix = glob::literal_prefix(pattern);
  std::vector<std::string> matched;
  std::string last;
  bool first = true;
  std::uint64_t budget = kMatchBaseSteps;
  bool over = false;
  for (;;) {
    const std::string_view after(last);
    if (Status s = keyspace_.scan(prefix, first ? nullptr : &after, kScanPage, &page_); !s) {
      store_error(s);
      return After::kContinue;
    }
    for (std::string& k : page_.keys) {
      if (match_within(pattern, k, &budget, &over)) matched.push_back(k);
      if (over) {
        writer_.error(kPatternTooCostly);
        return After::kContinue;
      }
    }
    if (!page_.more || page_.keys.empty()) break;
    last = page_.keys.back();
    first = false;
  }
  writer_.array(matched.size());
  for (const std::string& k : matched) writer_.bulk(k);
  return After::kContinue;
}

// scan walks the store's hash index as Redis's SCAN walks its table
// (Store::scan_buckets): about COUNT keys a call, then MATCH and TYPE
// filter them, so a reply may hold none before the walk ends (cursor 0).
Session::After Session::scan(const Args& a) {
  std::uint64_t cursor = 0;
  {
    const std::string_view c = a[1];
    if (c.empty() || c.size() > 20 || !std::all_of(c.begin(), c.end(), [](char x) { return x >= '0' && x <= '9'; })) {
      writer_.error("ERR invalid cursor");
      return After::kContinue;
    }
    unsigned long long v = 0;
    for (char x : c) {
      const unsigned d = static_cast<unsigned>(x - '0');
      if (v > (ULLONG_MAX - d) / 10) {
        writer_.error("ERR invalid cursor");
        return After::kContinue;
      }
      v = v * 10 + d;
    }
    cursor = v;
  }
  std::string_view pattern;
  bool has_pattern = false;
  long long count = 10;
  bool wrong_type = false;
  for (std::size_t i = 2; i < a.size(); i += 2) {
    if (i + 1 >= a.size()) {
      writer_.error(kSyntax);
      return After::kContinue;
    }
    if (equals_nocase(a[i], "match")) {
      pattern = a[i + 1];
      has_pattern = !(pattern.size() == 1 && pattern[0] == '*');
    } else if (equals_nocase(a[i], "count")) {
      if (!parse_integer(a[i + 1], &count)) {
        writer_.error(kNotInteger);
        return After::kContinue;
      }
      if (count < 1) {
        writer_.error(kSyntax);
        return After::kContinue;
      }
    } else if (equals_nocase(a[i], "type")) {
      wrong_type = !equals_nocase(a[i + 1], "string");  // every value is a string
    } else {
      writer_.error(kSyntax);
      return After::kContinue;
    }
  }

  // Cursors are bucket positions of 32 bits; Redis's are of 64, and a
  // client passes back only what it was given.
  if (cursor > UINT32_MAX) {
    writer_.error("ERR invalid cursor");
    return After::kContinue;
  }
  std::uint32_t next = 0;
  if (Status s = keyspace_.scan_buckets(static_cast<std::uint32_t>(cursor), static_cast<std::size_t>(count), &page_,
                                        &next);
      !s) {
    store_error(s);
    return After::kContinue;
  }
  std::vector<std::string_view> out;
  std::uint64_t budget = kMatchBaseSteps;
  for (const std::string& k : page_.keys) {
    if (wrong_type) break;
    bool over = false;
    if (!has_pattern || match_within(pattern, k, &budget, &over)) out.push_back(k);
    if (over) {
      writer_.error(kPatternTooCostly);
      return After::kContinue;
    }
  }
  writer_.array(2);
  writer_.bulk(std::to_string(next));
  writer_.array(out.size());
  for (std::string_view k : out) writer_.bulk(k);
  return After::kContinue;
}

Session::After Session::dbsize(const Args&) {
  writer_.integer(static_cast<long long>(keyspace_.counts().keys));
  return After::kContinue;
}

// randomkey picks the first key after a random position: any key can come
// out, though not with equal chances (the store has no random access).
Session::After Session::randomkey(const Args&) {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  std::string at(8, '\0');
  const std::uint64_t r = random();
  for (int i = 0; i < 8; ++i) at[i] = static_cast<char>((r >> (8 * i)) & 0xff);
  const std::string_view from(at);
  for (const std::string_view* after : {&from, static_cast<const std::string_view*>(nullptr)}) {
    if (Status s = keyspace_.scan("", after, 1, &page_); !s) {
      store_error(s);
      return After::kContinue;
    }
    if (!page_.keys.empty()) {
      writer_.bulk(page_.keys[0]);
      return After::kContinue;
    }
  }
  writer_.null();
  return After::kContinue;
}

// flushdb deletes every key, a page at a time: not atomic (a key written
// meanwhile may stay).
Session::After Session::flushdb(const Args& a) {
  if (a.size() > 2 || (a.size() == 2 && !equals_nocase(a[1], "sync") && !equals_nocase(a[1], "async"))) {
    writer_.error(kSyntax);
    return After::kContinue;
  }
  for (;;) {
    if (Status s = keyspace_.scan("", nullptr, kScanPage, &page_); !s) {
      store_error(s);
      return After::kContinue;
    }
    if (page_.keys.empty()) break;
    for (const std::string& k : page_.keys) {
      bool existed = false;
      if (Status s = keyspace_.del(k, &existed); !s) {
        store_error(s);
        return After::kContinue;
      }
    }
  }
  writer_.simple("OK");
  return After::kContinue;
}

// Server commands.

std::string Session::info_text(const std::vector<std::string>& wanted) {
  bool all = wanted.empty();
  for (const std::string& w : wanted) all = all || w == "all" || w == "default" || w == "everything";
  const scoreboard::Scoreboard& board = keyspace_.board();
  const store::Counts counts = keyspace_.counts();
  const std::int64_t uptime = std::time(nullptr) - board.started;
  std::string text;
  auto section = [&](std::string_view name, std::string_view title, const std::string& body) {
    if (!all && std::find(wanted.begin(), wanted.end(), name) == wanted.end()) return;
    if (!text.empty()) text += "\r\n";
    text += fmt::format("# {}\r\n{}", title, body);
  };
  section("server", "Server",
          fmt::format("redis_version:{}\r\nshmkv_version:{}\r\nredis_mode:standalone\r\nos:Linux\r\n"
                      "arch_bits:{}\r\nprocess_id:{}\r\ntcp_port:{}\r\nuptime_in_seconds:{}\r\n"
                      "uptime_in_days:{}\r\n",
                      kRedisVersion, kVersion, sizeof(void*) * 8, board.daemon_pid, config_.port, uptime,
                      uptime / 86400));
  section("clients", "Clients",
          fmt::format("connected_clients:{}\r\nmaxclients:{}\r\nblocked_clients:0\r\n", board.active(),
                      config_.max_clients));
  const std::size_t used = counts.store_bytes - counts.free_bytes;
  section("memory", "Memory",
          fmt::format("used_memory:{}\r\nused_memory_human:{}\r\nmaxmemory:{}\r\nmaxmemory_human:{}\r\n"
                      "maxmemory_policy:noeviction\r\n",
                      used, bytes_to_human(used), counts.store_bytes, bytes_to_human(counts.store_bytes)));
  // The snapshot is Redis's RDB here (shmkv-protocol(7), RESP commands):
  // its last save, of any kind, is the "bgsave" Redis reports.
  const bool saving = snapshotter::saving(board);
  section("persistence", "Persistence",
          fmt::format("loading:0\r\nasync_loading:0\r\nrdb_changes_since_last_save:{}\r\n"
                      "rdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\n"
                      "rdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:-1\r\n"
                      "aof_enabled:0\r\naof_rewrite_in_progress:0\r\n",
                      snapshotter::changes_since_save(board), saving ? 1 : 0, last_save_time(board),
                      board.snapshot.failed.load() ? "err" : "ok",
                      board.snapshot.last_save.load() ? std::int64_t(board.snapshot.last_save_ms.load() / 1000) : -1));
  section("stats", "Stats",
          fmt::format("total_connections_received:{}\r\ntotal_commands_processed:{}\r\n"
                      "instantaneous_ops_per_sec:0\r\nrejected_connections:0\r\nexpired_keys:{}\r\n"
                      "evicted_keys:0\r\n",
                      board.connections_total.load(), board.requests(), counts.expired_total));
  section("keyspace", "Keyspace",
          counts.keys ? fmt::format("db0:keys={},expires={},avg_ttl=0\r\n", counts.keys, counts.keys_with_ttl) : std::string());
  return text;
}

// info answers the sections named, in Redis's order, whatever theirs; a
// name it does not know adds nothing.
Session::After Session::info(const Args& a) {
  // Only the names info_text knows, once each: INFO with a million
  // arguments keeps a few, not a million copies.
  static constexpr std::string_view kNames[] = {"all",    "default",     "everything", "server", "clients",
                                                "memory", "persistence", "stats",      "keyspace"};
  std::vector<std::string> wanted;
  for (std::size_t i = 1; i < a.size(); ++i)
    for (std::string_view name : kNames)
      if (equals_nocase(a[i], name) && std::find(wanted.begin(), wanted.end(), name) == wanted.end())
        wanted.emplace_back(name);
  // Sections named but none known: nothing, as Redis answers.
  if (wanted.empty() && a.size() > 1) wanted.emplace_back("none");
  writer_.verbatim(info_text(wanted));
  return After::kContinue;
}

// config answers CONFIG GET for the parameters clients probe; CONFIG SET and
// the rest are not supported.
Session::After Session::config(const Args& a) {
  const std::string sub = lower(a[1]);
  if (sub == "help" && a.size() == 2) {
    help("CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
         {"GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values:",
          "    maxmemory, save, appendonly and databases."});
    return After::kContinue;
  }
  if (sub != "get") {
    unknown_subcommand(a[1], "CONFIG");
    return After::kContinue;
  }
  if (a.size() < 3) {
    writer_.error("ERR wrong number of arguments for 'config|get' command");
    return After::kContinue;
  }
  const store::Counts counts = keyspace_.counts();
  const std::pair<std::string_view, std::string> params[] = {
      {"maxmemory", std::to_string(counts.store_bytes)},
      {"save", snapshotter::enabled(keyspace_.board()) && config_.snapshot_interval_s > 0
                   ? fmt::format("{} 1", config_.snapshot_interval_s)
                   : std::string()},
      {"appendonly", "no"},
      {"databases", "1"},
  };
  // A name without a glob character is answered under the name as given,
  // as Redis does; one a pattern matches, under its own.
  std::vector<std::pair<std::string_view, const std::string*>> hits;
  for (const auto& p : params) {
    for (std::size_t i = 2; i < a.size(); ++i) {
      const bool pattern = a[i].find_first_of("[*?") != std::string_view::npos;
      if (pattern ? glob::match(lower(a[i]), p.first) : equals_nocase(a[i], p.first)) {
        hits.emplace_back(pattern ? p.first : a[i], &p.second);
        break;
      }
    }
  }
  writer_.map(hits.size());
  for (const auto& [name, value] : hits) {
    writer_.bulk(name);
    writer_.bulk(*value);
  }
  return After::kContinue;
}

// save, bgsave and lastsave answer SAVE, BGSAVE and LASTSAVE over the
// snapshot (shmkv-protocol(7), Snapshots), as Redis answers them over its
// RDB file. SAVE answers once the file is on disk (after any save under way);
// BGSAVE has the parent start a snapshot child and answers at once.
Session::After Session::save(const Args&) {
  snapshotter::Saved saved;
  if (Status s = keyspace_.save(&saved); !s) {
    writer_.error(s.code() == Status::Code::kInvalid ? "ERR " + s.message()
                                                     : "ERR SAVE failed, the previous snapshot is kept: " + s.message());
    return After::kContinue;
  }
  writer_.simple("OK");
  return After::kContinue;
}

Session::After Session::bgsave(const Args& a) {
  const bool schedule = a.size() == 2 && lower(a[1]) == "schedule";
  if (a.size() > 2 || (a.size() == 2 && !schedule)) {
    writer_.error(kSyntax);
    return After::kContinue;
  }
  const Status s = snapshotter::request_save(keyspace_.board(), schedule);
  if (s) writer_.simple("Background saving started");
  else if (s.code() == Status::Code::kBusy && schedule) writer_.simple("Background saving scheduled");
  else if (s.code() == Status::Code::kBusy) writer_.error("ERR Background save already in progress");
  else writer_.error("ERR " + s.message());
  return After::kContinue;
}

// LASTSAVE is the Unix time of the last snapshot written; before the first
// one, the daemon's start, as Redis answers before its first save.
Session::After Session::lastsave(const Args&) {
  writer_.integer(last_save_time(keyspace_.board()));
  return After::kContinue;
}

Session::After Session::time(const Args&) {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  writer_.array(2);
  writer_.bulk(std::to_string(tv.tv_sec));
  writer_.bulk(std::to_string(tv.tv_usec));
  return After::kContinue;
}

}  // namespace shmkv::resp
