// The RESP commands (shmkv-protocol(7), RESP commands): one Session per
// connection answers each parsed command through a Writer, over the
// Keyspace. Unknown commands, wrong arities and bad numbers are answered in
// Redis's own words, which client libraries match on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "resp/keyspace.hpp"
#include "resp/writer.hpp"
#include "store/store.hpp"

namespace shmkv::resp {

class Session {
 public:
  // What INFO and CONFIG GET report about the daemon; constant after start-up.
  struct Config {
    std::uint16_t port = 0;  // the RESP TCP port (0: none)
    int max_clients = 0;     // --max-children
    int snapshot_interval_s = 0;  // --snapshot-interval, for CONFIG GET save
    std::size_t max_value = SIZE_MAX;    // --max-message: the longest value APPEND makes
    std::size_t reply_limit = SIZE_MAX;  // connection::reply_limit: replies owed before a drain
  };

  // Drain sends the replies written so far and empties the output; false
  // when the connection is gone.
  using Drain = std::function<bool()>;

  // What the connection does after a command's reply.
  enum class After { kContinue, kClose };

  Session(Keyspace& keyspace, const Config& config, std::string& out);

  // begin starts a connection: RESP2, no name, a new client id. A command
  // whose reply outgrows config's reply_limit (an MGET naming a big key many
  // times, a run of GETs of big values) is looked up in parts, and drain
  // sends each part before the next is read, so that its worker's memory
  // stays within a few times that bound (shmkvd(8), Greedy clients). Without
  // drain (tests) the output just grows.
  void begin(Drain drain = {});

  // execute answers one command (args non-empty), appending its reply, or
  // for a GET or a plain SET holds it back: a run of GETs is looked up in
  // one hold of the store's lock (Store::get_many), as the JSON dispatcher
  // does for a pipelining client, and a run of SETs stored in one
  // (Store::put_many). Call flush before writing the replies out: no reply
  // goes out before its command's change is made and the lock let go.
  After execute(const std::vector<std::string_view>& args);

  // flush answers the commands held back, in order.
  void flush();

  int protocol() const { return writer_.protocol(); }
  // lost says a drain failed: the connection is gone, or left with a reply
  // cut short, and must be closed.
  bool lost() const { return lost_; }

 private:
  using Args = std::vector<std::string_view>;
  struct Command {
    std::string_view name;  // lower case
    int arity;              // as Redis: n exactly, or -n at least n
    bool uses_store;        // refused while the store is not served
    After (Session::*run)(const Args&);
  };
  static const Command* find(std::string_view name);

  After ping(const Args&);
  After echo(const Args&);
  After quit(const Args&);
  After hello(const Args&);
  After select(const Args&);
  After client(const Args&);
  After command(const Args&);
  After reset(const Args&);
  After get(const Args&);
  After set(const Args&);
  After setnx(const Args&);
  After setex(const Args&);
  After psetex(const Args&);
  After msetnx(const Args&);
  After incr(const Args&);
  After incrby(const Args&);
  After decr(const Args&);
  After decrby(const Args&);
  After expire(const Args&);
  After pexpire(const Args&);
  After expireat(const Args&);
  After pexpireat(const Args&);
  After ttl(const Args&);
  After pttl(const Args&);
  After persist(const Args&);
  After mget(const Args&);
  After mset(const Args&);
  After strlen(const Args&);
  After append(const Args&);
  After getset(const Args&);
  After getdel(const Args&);
  After del(const Args&);
  After exists(const Args&);
  After type(const Args&);
  After keys(const Args&);
  After scan(const Args&);
  After dbsize(const Args&);
  After randomkey(const Args&);
  After flushdb(const Args&);
  After info(const Args&);
  After config(const Args&);
  After time(const Args&);
  After save(const Args&);
  After bgsave(const Args&);
  After lastsave(const Args&);

  // flush_gets answers the GETs held back; flush_sets the SETs. Only one
  // of the two holds any at a time, so each command keeps its place.
  void flush_gets();
  void flush_sets();

  // put_expiring stores a SET with an expiry (ttl_ms > 0), or when
  // ttl_ms <= 0 (an EXAT in the past) stores and at once deletes, as Redis
  // does; *stored as for Keyspace::put_with.
  // expiry_left sets *ttl_ms to key's time left (at least 1), or 0 when it
  // has no expiry or is absent: what a write that keeps the expiry passes on.
  Status expiry_left(std::string_view key, std::int64_t* ttl_ms);
  Status put_expiring(std::string_view key, std::string_view value, std::int64_t ttl_ms,
                      store::Condition condition, bool* stored);
  void setex_generic(const Args& a, std::int64_t unit_ms, std::string_view name);
  // incr_by answers INCR and its kin.
  void incr_by(std::string_view key, long long by);
  // expire_generic answers EXPIRE and its kin: when is a time in ms from
  // now (relative) or since the epoch; seconds says a[2] is in seconds.
  void expire_generic(const Args& a, bool seconds, bool absolute, std::string_view name);
  // ttl_generic answers TTL (seconds) and PTTL.
  void ttl_generic(std::string_view key, bool seconds);
  // drain sends the output once it holds reply_limit bytes or more; false
  // (and lost()) when that fails.
  bool drain();
  // release_values lets go of values_ after a command read big values.
  void release_values();
  // store_error answers a failed store call: a full store as Redis's OOM.
  void store_error(const Status& s);
  void unknown_subcommand(std::string_view sub, std::string_view command);
  void help(std::string_view usage, std::initializer_list<std::string_view> lines);
  // info_text is INFO's text of the sections wanted (lower case; none: all).
  std::string info_text(const std::vector<std::string>& wanted);

  Keyspace& keyspace_;
  const Config config_;
  Writer writer_;
  std::string name_;       // CLIENT SETNAME
  std::uint64_t id_ = 0;   // CLIENT ID
  std::uint64_t served_ = 0;  // connections begun in this worker
  Drain drain_;
  bool lost_ = false;
  // The GETs held back (copies of their keys: the input they came from may
  // be reused before the flush).
  static constexpr std::size_t kMaxQueuedGets = 64;
  std::vector<std::string> queued_keys_;
  std::vector<std::string_view> queued_views_;
  std::size_t queued_ = 0;
  // The SETs held back (copies, as the GETs' keys), of at most
  // kMaxQueuedSetBytes of key and value each; longer ones go alone.
  static constexpr std::size_t kMaxQueuedSets = 64;
  static constexpr std::size_t kMaxQueuedSetBytes = 4096;
  std::vector<std::string> set_keys_;
  std::vector<std::string> set_values_;
  std::size_t queued_sets_ = 0;
  std::vector<store::Store::Write> writes_;
  // Scratch kept across commands.
  std::string value_;
  std::vector<std::string> values_;
  std::vector<bool> found_;
  store::Page page_;
};

}  // namespace shmkv::resp
