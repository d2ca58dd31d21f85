// Reply building (PROTOCOL.md sections 3 and 4): each function appends one whole
// framed reply to an output buffer, byte-compatible with the original server's
// json.dumps output. Stored values are spliced in as text, never re-serialised.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shmkv/stats.hpp"
#include "shmkv/store.hpp"

namespace shmkv::reply {

// get appends a GET reply; value is the stored JSON text, or null when absent.
void get(std::string& out, std::int32_t version, std::string_view key, const std::string_view* value);
void put(std::string& out, std::int32_t version, std::string_view key);
void del(std::string& out, std::int32_t version, std::string_view key, bool found);
void keys(std::string& out, std::int32_t version, const std::vector<std::string>& keys, bool more);
void stats(std::string& out, std::int32_t version, const store::Counts& store_counts,
           const stats::Counters& counters, pid_t worker_pid);
void unknown_function(std::string& out, std::int32_t version, std::string_view func);
void error(std::string& out, std::int32_t version, std::string_view message);

}  // namespace shmkv::reply
