#include "cli/dump.hpp"

#include <fmt/format.h>

#include <time.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <vector>

#include "protocol/base64.hpp"
#include "protocol/json_ondemand.hpp"

namespace shmkv::cli {
namespace {

namespace od = simdjson::ondemand;

constexpr int kKeysPage = 1000;           // keys asked for at once: the server's default
constexpr std::size_t kRestoreBatch = 500;  // PUTs sent in one write

// unix_ms is the wall-clock time in Unix milliseconds, as expiry times are.
std::int64_t unix_ms() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return std::int64_t(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

void write_out(std::FILE* out, std::string& buffer) {
  std::fwrite(buffer.data(), 1, buffer.size(), out);
  buffer.clear();
}

}  // namespace

void dump_line(std::string& out, std::string_view key, std::string_view value, std::string_view ttl, bool bytes) {
  out.append(R"({"obj": )");
  json::append_quoted(out, key);
  if (bytes) {
    // A bytes value, whatever it holds, goes in base64, so that restore
    // gives back its bytes and its kind (shmkv-protocol(7), Dump format).
    out.append(R"(, "bytes": ")");
    base64::append_encoded(out, value);
    out.push_back('"');
  } else if (value.find_first_of("\r\n") == std::string_view::npos) {
    out.append(R"(, "val": )");
    out.append(value);
  } else {
    // A line break can only be white space between a value's tokens (JSON
    // strings escape theirs), but a line holds one key: such a value goes
    // as its text in a JSON string, so that it comes back byte for byte.
    out.append(R"(, "val_text": )");
    json::append_quoted(out, value);
  }
  // A key that expires carries the seconds it had left, to the millisecond,
  // as TTL answered them (shmkv-protocol(7), Dump format).
  if (!ttl.empty()) {
    out.append(R"(, "ttl": )");
    out.append(ttl);
  }
  out.append("}\n");
}

void resp_command(std::string& out, std::string_view key, std::string_view value, std::int64_t expires_at_ms,
                  bool bytes) {
  std::string text;
  if (bytes || value.empty() || value.front() != '"' || !json::decode_string(value, &text)) text.assign(value);
  // A key that expires gets PXAT and its expiry time in Unix milliseconds.
  fmt::format_to(std::back_inserter(out), "*{}\r\n$3\r\nSET\r\n${}\r\n", expires_at_ms > 0 ? 5 : 3, key.size());
  out.append(key);
  fmt::format_to(std::back_inserter(out), "\r\n${}\r\n", text.size());
  out.append(text);
  out.append("\r\n");
  if (expires_at_ms > 0) {
    const std::string at = std::to_string(expires_at_ms);
    fmt::format_to(std::back_inserter(out), "$4\r\nPXAT\r\n${}\r\n{}\r\n", at.size(), at);
  }
}

Status dump(client::Client& client, std::string_view prefix, DumpFormat format, std::FILE* out) {
  client::KeysPage page;
  std::string after, buffer;
  std::vector<client::Result> results;
  do {
    std::optional<std::string_view> cursor;
    if (!after.empty() || !page.keys.empty()) cursor = after;
    if (Status s = client.keys(prefix, cursor, kKeysPage, &page); !s) return s;
    if (page.keys.empty()) break;
    // Each key's GET, with its kind, then its TTL, in one pipelined batch.
    client::Batch batch;
    for (const std::string& key : page.keys) {
      if (Status s = batch.get_typed(key); !s) return s;
      if (Status s = batch.ttl(key); !s) return s;
    }
    if (Status s = client.run(batch, &results); !s) return s;
    const std::int64_t now_ms = unix_ms();
    for (std::size_t i = 0; i < page.keys.size(); ++i) {
      const client::Result& r = results[2 * i];
      const client::Result& t = results[2 * i + 1];
      // A key deleted since the page was listed is not found, and left
      // out (a stored null is found: the typed GET tells them apart).
      if (r.status.is_not_found()) continue;
      if (!r.status) return r.status;
      if (!t.status && !t.status.is_not_found()) return t.status;
      // TTL says "-1" for a key that never expires.
      const bool expires = t.status && !t.text.empty() && t.text.front() != '-';
      if (format == DumpFormat::kJson) {
        dump_line(buffer, page.keys[i], r.text, expires ? std::string_view(t.text) : std::string_view(), r.bytes);
      } else {
        const std::int64_t at = expires ? now_ms + std::llround(std::strtod(t.text.c_str(), nullptr) * 1000) : 0;
        resp_command(buffer, page.keys[i], r.text, at, r.bytes);
      }
    }
    write_out(out, buffer);
    after = page.keys.back();
  } while (page.more);
  if (std::fflush(out) != 0) return Status::io(errno_text("write standard output", errno));
  return Status::ok();
}

Status parse_dump_line(std::string_view line, std::string* params) {
  if (Status s = json::check_value(line); !s) return Status::invalid("not one JSON object: " + s.message());
  const simdjson::padded_string text(line);
  json::OnDemandParser on_demand;
  od::document doc;
  od::object object;
  if (on_demand.parser.iterate(text).get(doc) || doc.get_object().get(object))
    return Status::invalid(R"(not a JSON object {"obj": KEY, "val": VALUE})");
  std::string_view key, val, val_text, encoded, ttl;
  bool has_key = false, has_val = false, has_text = false, has_bytes = false, has_ttl = false;
  for (auto field : object) {
    std::string_view name;
    od::value value;
    if (field.unescaped_key().get(name) || field.value().get(value)) return Status::invalid("unreadable member");
    if (name == "obj") {
      if (value.get_string().get(key)) return Status::invalid("obj must be a string");
      has_key = true;
    } else if (name == "val") {
      if (json::raw_text(value, &val)) return Status::invalid("unreadable val");
      has_val = true;
    } else if (name == "val_text") {
      if (value.get_string().get(val_text) || !json::check_value(val_text))
        return Status::invalid("val_text must be a string holding one JSON value");
      has_text = true;
    } else if (name == "ttl") {
      if (json::raw_text(value, &ttl)) return Status::invalid("unreadable ttl");
      has_ttl = true;
    } else if (name == "bytes") {
      std::string scratch;
      if (value.get_string().get(encoded) || !base64::decode(encoded, &scratch))
        return Status::invalid("bytes must be a string of base64 (RFC 4648, padded with =)");
      has_bytes = true;
    } else {
      return Status::invalid(fmt::format("unknown member {}", json::Quoted{name}));
    }
  }
  if (!has_key) return Status::invalid("obj is missing");
  if (int(has_val) + int(has_text) + int(has_bytes) != 1)
    return Status::invalid("give exactly one of val, val_text and bytes");
  std::string out = R"({"obj": )";
  json::append_quoted(out, key);
  if (has_bytes) {
    out.append(R"(, "bytes": ")");
    out.append(encoded);  // base64: nothing in it needs escaping
    out.push_back('"');
  } else {
    out.append(R"(, "val": )");
    out.append(has_val ? val : val_text);
  }
  if (has_ttl) {
    out.append(R"(, "ttl": )");
    out.append(ttl);
  }
  out.append("}");
  *params = std::move(out);
  return Status::ok();
}

Status restore(client::Client& client, std::FILE* in, std::FILE* err, RestoreCounts* counts) {
  *counts = RestoreCounts{};
  client::Batch batch;
  std::vector<long> lines;  // the line number of each request in the batch
  std::vector<client::Result> results;
  auto send = [&]() -> Status {
    if (batch.size() == 0) return Status::ok();
    const Status s = client.run(batch, &results);
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (results[i].status) {
        ++counts->restored;
      } else {
        ++counts->bad;
        fmt::print(err, "shmkv: line {}: {}\n", lines[i], results[i].status.message());
      }
    }
    batch.clear();
    lines.clear();
    return s;
  };
  char* buffer = nullptr;
  std::size_t size = 0;
  Status status;
  for (long number = 1;; ++number) {
    errno = 0;
    const ssize_t n = getline(&buffer, &size, in);
    if (n < 0) {
      // getline's ENOMEM on an endless line does not set the error flag.
      if (std::ferror(in) || !std::feof(in)) status = Status::io(errno_text(std::string(kDumpFileError), errno ? errno : EIO));
      break;
    }
    std::string_view line(buffer, static_cast<std::size_t>(n));
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (line.empty()) continue;
    std::string params;
    Status s = parse_dump_line(line, &params);
    if (s) s = batch.call("PUT", params);
    if (!s) {
      ++counts->bad;
      fmt::print(err, "shmkv: line {}: {}; skipped\n", number, s.message());
      continue;
    }
    lines.push_back(number);
    if (batch.size() == kRestoreBatch)
      if (status = send(); !status) break;
  }
  std::free(buffer);
  if (status) status = send();
  return status;
}

}  // namespace shmkv::cli
