// shmkv dump and restore (shmkv(1); the format is shmkv-protocol(7), DUMP
// FORMAT): every key of a live store written out as JSON lines, paged
// through KEYS, or as RESP SET commands for redis-cli --pipe; and JSON lines
// loaded back with pipelined PUTs.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "shmkv/client.hpp"
#include "shmkv/status.hpp"

namespace shmkv::cli {

enum class DumpFormat { kJson, kResp };

// dump writes every key that starts with prefix, in key order, to out. A key
// written while the dump runs may or may not be in it, and one deleted
// meanwhile may be in it holding null (a dump is not a point in time: SAVE
// is).
Status dump(client::Client& client, std::string_view prefix, DumpFormat format, std::FILE* out);

// dump_line appends the JSON line (with its newline) for key and value, the
// value's JSON text as stored, or with bytes its bytes (a bytes value, as
// "bytes": BASE64), and ttl, the seconds left as TTL wrote them, unless it
// is empty (a key that never expires).
void dump_line(std::string& out, std::string_view key, std::string_view value, std::string_view ttl = {},
               bool bytes = false);

// resp_command appends the RESP SET command for key and value: a JSON
// string's characters, any other value's JSON text, or with bytes the
// bytes themselves; with PXAT when expires_at_ms (Unix milliseconds) is not 0.
void resp_command(std::string& out, std::string_view key, std::string_view value, std::int64_t expires_at_ms = 0,
                  bool bytes = false);

// parse_dump_line turns one line of a dump into the params of its PUT: val
// (or val_text) as a PUT's val, bytes as a PUT's bytes, ttl as its ttl.
Status parse_dump_line(std::string_view line, std::string* params);

struct RestoreCounts {
  std::size_t restored = 0;
  std::size_t bad = 0;  // lines refused, or whose PUT failed; each reported on err
};

// restore PUTs every line of in, pipelined; a bad line is reported on err
// with its number and skipped. The Status is a lost connection or a failed
// read; the counts say the rest.
Status restore(client::Client& client, std::FILE* in, std::FILE* err, RestoreCounts* counts);

// kDumpFileError begins the message of restore's kIo statuses that are about
// its FILE (or standard input), not the connection: no hint about one.
inline constexpr std::string_view kDumpFileError = "read the dump";

}  // namespace shmkv::cli
