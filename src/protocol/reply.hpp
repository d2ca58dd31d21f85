// Reply building (shmkv-protocol(7), Requests and replies, and Errors): each function appends one whole
// framed reply to an output buffer, byte-compatible with the original server's
// json.dumps output. Stored values are spliced in as text, never re-serialised.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>


namespace shmkv::reply {

// get appends a GET reply; value is the stored JSON text, or null when absent.
void get(std::string& out, std::int32_t version, std::string_view key, const std::string_view* value);
// Value kinds, as a typed GET reply names them (shmkv-protocol(7), Bytes
// over JSON).
enum class Kind { kJson, kBytes };
// get_typed appends the reply to a GET with params.encoding "base64": a JSON
// value as get does, with "kind": "json"; bytes as "bytes": BASE64 with
// "kind": "bytes"; an absent key as "val": null with "kind": null.
void get_typed(std::string& out, std::int32_t version, std::string_view key, const std::string_view* value,
               Kind kind);
// put answers "ok", or "not stored" when PUT's condition failed.
void put(std::string& out, std::int32_t version, std::string_view key, bool stored = true);
// incr answers INCR with the new value; expire with "ok" or "not found";
// ttl with the milliseconds left, shown as seconds, or -1 or -2
// (shmkv-protocol(7), Expiry).
void incr(std::string& out, std::int32_t version, std::string_view key, std::int64_t value);
void expire(std::string& out, std::int32_t version, std::string_view key, bool found);
void ttl(std::string& out, std::int32_t version, std::string_view key, std::int64_t ms);
void del(std::string& out, std::int32_t version, std::string_view key, bool found);
void keys(std::string& out, std::int32_t version, const std::vector<std::string>& keys, bool more);

// The figures of a STATS reply (shmkv-protocol(7), STATS).
struct Stats {
  std::size_t keys = 0;
  std::size_t store_bytes = 0;
  std::size_t store_free_bytes = 0;
  std::uint64_t connections_active = 0;
  std::uint64_t connections_total = 0;
  std::uint64_t requests_total = 0;
  std::int64_t uptime_seconds = 0;
  pid_t pid = 0;
  pid_t worker_pid = 0;
  std::uint64_t recoveries = 0;
  std::int64_t last_recovery = 0;  // Unix time; 0: never
  std::size_t keys_with_ttl = 0;
  std::uint64_t expired_keys_total = 0;
  std::string store_status;        // "ok", "recovering" or "failed: why"
  // Snapshots (shmkv-protocol(7), Snapshots).
  std::int64_t last_save = 0;  // Unix time; 0: never
  std::uint64_t last_save_keys = 0;
  std::uint64_t last_save_ms = 0;
  std::uint64_t changes_since_save = 0;
  std::string snapshot_status;  // "off", "ok" or "failed: why"
};
void stats(std::string& out, std::int32_t version, const Stats& stats);
// save answers SAVE once the snapshot is on disk (shmkv-protocol(7), Snapshots).
void save(std::string& out, std::int32_t version, std::uint64_t keys, std::uint64_t bytes, std::uint64_t ms);
void debug(std::string& out, std::int32_t version);
void unknown_function(std::string& out, std::int32_t version, std::string_view func);
void error(std::string& out, std::int32_t version, std::string_view message);

}  // namespace shmkv::reply
