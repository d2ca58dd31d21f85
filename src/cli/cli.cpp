#include "cli/cli.hpp"


#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <new>
#include <optional>

#include "cli/dump.hpp"
#include "protocol/json.hpp"

namespace shmkv::cli {
namespace {

// What each command accepts. The last of a command's arguments is "rest"
// when, on a line of standard input, it takes the rest of the line (JSON and
// text hold blanks).
struct Grammar {
  std::string_view name;
  Verb verb;
  std::string_view option;  // the command's one flag ("" for none)
  std::string_view short_option;
  std::size_t min_args;
  std::size_t max_args;
  bool rest;
  std::string_view takes;  // for the usage message
};

constexpr Grammar kGrammar[] = {
    {"get", Verb::kGet, "--raw", "-r", 1, 1, false, "one KEY: get [-r] KEY"},
    {"put", Verb::kPut, "--string", "", 2, 2, true,
     "a KEY and a value: put [--ttl SECONDS] [--if-absent | --if-present] [--string] KEY JSON|TEXT"},
    {"del", Verb::kDel, "", "", 1, 1, false, "one KEY: del KEY"},
    {"keys", Verb::kKeys, "", "", 0, 1, false, "at most one PREFIX: keys [PREFIX]"},
    {"stats", Verb::kStats, "--json", "", 0, 0, false, "no argument: stats [--json]"},
    {"incr", Verb::kIncr, "", "", 1, 2, false, "a KEY and an optional BY: incr KEY [BY]"},
    {"expire", Verb::kExpire, "", "", 2, 2, false, "a KEY and SECONDS or none: expire KEY SECONDS|none"},
    {"ttl", Verb::kTtl, "", "", 1, 1, false, "one KEY: ttl KEY"},
    {"call", Verb::kCall, "", "", 1, 2, true, "a FUNC and optional PARAMS: call FUNC [PARAMS]"},
    {"save", Verb::kSave, "", "", 0, 0, false, "no argument: save"},
    {"dump", Verb::kDump, "--format", "", 0, 1, false, "at most one PREFIX: dump [--format json|resp] [PREFIX]"},
    {"restore", Verb::kRestore, "", "", 0, 1, false, "at most one FILE: restore [FILE]"},
};

// The words of a command: program arguments, or a line cut at blanks.
struct Word {
  std::string_view text;
  std::size_t offset = 0;  // where it starts in the line
  bool quoted = false;     // a JSON string on a line
};

class Words {
 public:
  explicit Words(const std::vector<std::string_view>& args) {
    for (std::string_view a : args) words_.push_back(Word{a});
  }

  explicit Words(std::string_view line) : line_(line), from_line_(true) {
    constexpr std::string_view kBlanks = " \t";
    std::size_t i = line.find_first_not_of(kBlanks);
    while (i != std::string_view::npos) {
      std::size_t end = i;
      if (line[i] == '"') {  // to the closing quote, skipping escaped characters
        for (end = i + 1; end < line.size() && line[end] != '"'; ++end)
          if (line[end] == '\\') ++end;
        end = std::min(end + 1, line.size());
      }
      end = std::min(line.find_first_of(kBlanks, end), line.size());
      words_.push_back(Word{line.substr(i, end - i), i, line[i] == '"'});
      i = line.find_first_not_of(kBlanks, end);
    }
  }

  std::size_t size() const { return words_.size(); }
  bool from_line() const { return from_line_; }
  const Word& operator[](std::size_t i) const { return words_[i]; }

  // take sets *out to word i, with a quoted word decoded.
  Status take(std::size_t i, std::string* out) const {
    const Word& w = words_[i];
    if (!w.quoted) {
      out->assign(w.text);
      return Status::ok();
    }
    if (json::decode_string(w.text, out)) return Status::ok();
    return Status::invalid(fmt::format("{} is not a valid JSON string", w.text));
  }

  // rest returns word i as it is: on a line, with everything after it.
  std::string_view rest(std::size_t i) const { return from_line_ ? line_.substr(words_[i].offset) : words_[i].text; }

 private:
  std::vector<Word> words_;
  std::string_view line_;
  bool from_line_ = false;
};

// parse_seconds reads a ttl given in seconds, as shmkv-protocol(7), Expiry
// allows it: above 0, at most ten years, kept to the millisecond.
Status parse_seconds(std::string_view what, std::string_view text, std::int64_t* ms) {
  double seconds = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (error == std::errc() && end == text.data() + text.size() && seconds > 0 && seconds <= 315360000) {
    *ms = std::llround(seconds * 1000);
    if (*ms >= 1) return Status::ok();
  }
  return Status::invalid(fmt::format("{} takes seconds from 0.001 to 315360000, e.g. 60 or 1.5, not '{}'", what, text));
}

// put_option takes put's options that are not its one flag: --ttl SECONDS
// (or --ttl=SECONDS), --if-absent, --if-present. *taken counts the words used.
Status put_option(const Words& words, std::size_t i, Command* out, std::size_t* taken) {
  const std::string_view w = words[i].text;
  *taken = 1;
  if (w == "--if-absent" || w == "--if-present") {
    const client::Condition c = w == "--if-absent" ? client::Condition::kIfAbsent : client::Condition::kIfPresent;
    if (out->put.condition != client::Condition::kAlways && out->put.condition != c)
      return Status::invalid("put takes --if-absent or --if-present, not both");
    out->put.condition = c;
    return Status::ok();
  }
  if (w.substr(0, 6) == "--ttl=") return parse_seconds("--ttl", w.substr(6), &out->put.ttl_ms);
  if (i + 1 >= words.size()) return Status::invalid("--ttl needs a value");
  *taken = 2;
  return parse_seconds("--ttl", words[i + 1].text, &out->put.ttl_ms);
}

bool is_put_option(std::string_view w) {
  return w == "--if-absent" || w == "--if-present" || w == "--ttl" || w.substr(0, 6) == "--ttl=";
}

Status parse(const Words& words, Command* out) {
  *out = Command{};
  if (words.size() == 0) return Status::invalid("no command given");
  const std::string_view name = words[0].text;
  const Grammar* grammar = std::find_if(std::begin(kGrammar), std::end(kGrammar), [&](const Grammar& s) { return s.name == name; });
  if (grammar == std::end(kGrammar)) return Status::invalid(fmt::format("unknown command '{}'", name));
  out->verb = grammar->verb;

  std::size_t i = 1;
  for (; i < words.size() && !words[i].quoted; ++i) {
    const std::string_view w = words[i].text;
    if (w == "--") {
      ++i;
      break;
    }
    if (grammar->verb == Verb::kPut && is_put_option(w)) {
      std::size_t taken = 1;
      if (Status s = put_option(words, i, out, &taken); !s) return s;
      i += taken - 1;
      continue;
    }
    if (grammar->option.empty() || (w != grammar->option && w != grammar->short_option)) break;
    if (grammar->verb == Verb::kGet) out->raw = true;
    if (grammar->verb == Verb::kPut) out->string = true;
    if (grammar->verb == Verb::kStats) out->json = true;
    if (grammar->verb == Verb::kDump) {  // --format takes a word
      if (i + 1 == words.size() || (words[i + 1].text != "json" && words[i + 1].text != "resp"))
        return Status::invalid("dump --format takes json or resp");
      out->resp = words[++i].text == "resp";
    }
  }
  std::size_t count = words.size() - i;
  if (grammar->rest && words.from_line()) count = std::min(count, grammar->max_args);
  if (count < grammar->min_args || count > grammar->max_args)
    return Status::invalid(fmt::format("{} takes {}", grammar->name, grammar->takes));
  for (std::size_t j = 0; j < count; ++j) {
    if (grammar->rest && j + 1 == grammar->max_args) {
      out->args.emplace_back(words.rest(i + j));
    } else {
      out->args.emplace_back();
      if (Status s = words.take(i + j, &out->args.back()); !s) return s;
    }
  }
  return Status::ok();
}

// read_all reads all of in into *out, and stops once it holds more than any
// request can carry (client::kMaxMessage) rather than read without bound.
Status read_all(std::FILE* in, std::string* out) try {
  out->clear();
  char buffer[65536];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, in)) > 0) {
    if (out->size() + n > client::kMaxMessage) {
      out->clear();
      out->shrink_to_fit();
      return Status::io(fmt::format("standard input holds more than {} bytes, more than any server accepts",
                                    client::kMaxMessage));
    }
    // Grow by doubling, but straight to the bound once half of it is passed,
    // so that no step asks for twice the bound.
    if (out->size() + n > out->capacity()) {
      std::size_t next = std::max(2 * out->capacity(), sizeof buffer);
      if (next > client::kMaxMessage / 2) next = client::kMaxMessage;
      out->reserve(next);
    }
    out->append(buffer, n);
  }
  if (std::ferror(in)) return Status::io(errno_text("read standard input", errno));
  return Status::ok();
} catch (const std::bad_alloc&) {
  out->clear();
  out->shrink_to_fit();
  return Status::io("out of memory reading standard input: the value is too large for this process");
}

// kKeysPage is how many keys one KEYS request asks for: the server's default.
constexpr int kKeysPage = 1000;

Status list_keys(client::Client& client, std::string_view prefix, std::FILE* out) {
  client::KeysPage page;
  std::string after;
  do {
    std::optional<std::string_view> cursor;
    if (!page.keys.empty()) cursor = after;
    if (Status s = client.keys(prefix, cursor, kKeysPage, &page); !s) return s;
    for (const std::string& key : page.keys) print_line(out, key);
    if (!page.keys.empty()) after = page.keys.back();
  } while (page.more);
  return Status::ok();
}

// restore_from restores the dump in path (standard input for none or "-").
Status restore_from(client::Client& client, const std::string* path, std::FILE* out) {
  std::FILE* in = stdin;
  if (path && *path != "-") {
    in = std::fopen(path->c_str(), "r");
    if (!in) return Status::io(errno_text(fmt::format("{} {}", kDumpFileError, *path), errno));
  }
  RestoreCounts counts;
  const Status s = restore(client, in, stderr, &counts);
  if (in != stdin) std::fclose(in);
  fmt::print(out, "restored {} keys\n", counts.restored);
  if (!s) return s;
  if (counts.bad > 0)
    return Status::invalid(fmt::format("{} lines were not restored (each is reported above)", counts.bad));
  return Status::ok();
}

Status print_stats(client::Client& client, bool as_json, std::FILE* out) {
  if (as_json) {
    std::string object;
    if (Status s = client.stats(&object); !s) return s;
    print_line(out, object);
    return Status::ok();
  }
  std::vector<client::Stat> stats;
  if (Status s = client.stats(&stats); !s) return s;
  std::size_t width = 0;
  for (const client::Stat& stat : stats) width = std::max(width, stat.name.size());
  for (const client::Stat& stat : stats) fmt::print(out, "{:<{}} {}\n", stat.name, width, printable(stat.value));
  return Status::ok();
}

}  // namespace

void print_line(std::FILE* out, std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), out);
  std::fputc('\n', out);
}

std::string printable(std::string_view json) {
  std::string text;
  if (!json.empty() && json.front() == '"' && json::decode_string(json, &text)) return text;
  return std::string(json);
}

Status parse_args(const std::vector<std::string_view>& words, Command* out) { return parse(Words(words), out); }

Status parse_line(std::string_view line, Command* out, bool* blank) {
  const Words words(line);
  *blank = words.size() == 0 || words[0].text.front() == '#';
  if (*blank) return Status::ok();
  return parse(words, out);
}

Status prepare(Command* command, std::FILE* in) {
  std::vector<std::string>& args = command->args;
  // The first argument is the KEY, PREFIX or FUNC; JSON is checked below.
  if (!args.empty() && !json::is_utf8(args[0])) {
    const char* what = command->verb == Verb::kKeys ? "PREFIX" : command->verb == Verb::kCall ? "FUNC" : "KEY";
    return Status::invalid(fmt::format("{} is not valid UTF-8", what));
  }
  if (command->verb == Verb::kCall) {
    if (args.size() == 1) args.emplace_back("{}");
    if (Status s = json::check_value(args[1]); !s) return Status::invalid("PARAMS for call: " + s.message());
  }
  if (command->verb == Verb::kIncr && args.size() == 2) {
    const std::string& by = args[1];
    const auto [end, error] = std::from_chars(by.data(), by.data() + by.size(), command->by);
    if (error != std::errc() || end != by.data() + by.size())
      return Status::invalid(fmt::format("BY for incr must be an integer in signed 64-bit range, not '{}'", by));
  }
  if (command->verb == Verb::kExpire && args[1] != "none")
    return parse_seconds("expire", args[1], &command->ttl_ms);
  if (command->verb == Verb::kRestore && !in && (args.empty() || args[0] == "-"))
    return Status::invalid("restore without a FILE reads standard input, which holds the commands here");
  if (command->verb != Verb::kPut) return Status::ok();

  std::string& value = args[1];
  if (value == "-") {
    if (!in) return Status::invalid("put KEY - reads standard input, which holds the commands here");
    if (Status s = read_all(in, &value); !s) return s;
  }
  if (command->string) {
    if (!json::is_utf8(value)) return Status::invalid("TEXT for put is not valid UTF-8");
    std::string quoted;
    json::append_quoted(quoted, value);
    value = std::move(quoted);
    return Status::ok();
  }
  if (Status s = json::check_value(value); !s) return Status::invalid("JSON value for put: " + s.message());
  return Status::ok();
}

Status run(client::Client& client, const Command& command, std::FILE* out) {
  const std::vector<std::string>& args = command.args;
  switch (command.verb) {
    case Verb::kGet: {
      std::string value;
      if (Status s = client.get(args[0], &value); !s) return s;
      print_line(out, command.raw ? printable(value) : value);
      return Status::ok();
    }
    case Verb::kPut: {
      bool stored = false;
      if (Status s = client.put(args[0], args[1], command.put, &stored); !s) return s;
      if (stored) return Status::ok();
      // Not stored is exit status 1, as for a key that is not set.
      return Status::not_found(fmt::format("{} was not stored: it is {}", json::Quoted{args[0]},
                                           command.put.condition == client::Condition::kIfAbsent
                                               ? "set already (--if-absent)"
                                               : "not set (--if-present)"));
    }
    case Verb::kIncr: {
      std::int64_t value = 0;
      if (Status s = client.incr(args[0], command.by, &value); !s) return s;
      fmt::print(out, "{}\n", value);
      return Status::ok();
    }
    case Verb::kExpire: return client.expire(args[0], command.ttl_ms);
    case Verb::kTtl: {
      std::int64_t ms = 0;
      if (Status s = client.ttl(args[0], &ms); !s) return s;
      if (ms < 0) fmt::print(out, "-1\n");
      else fmt::print(out, "{}.{:03}\n", ms / 1000, ms % 1000);
      return Status::ok();
    }
    case Verb::kDel: return client.del(args[0]);
    case Verb::kKeys: return list_keys(client, args.empty() ? "" : args[0], out);
    case Verb::kStats: return print_stats(client, command.json, out);
    case Verb::kSave: {
      std::string response;
      if (Status s = client.save(&response); !s) return s;
      print_line(out, response);
      return Status::ok();
    }
    case Verb::kDump:
      return dump(client, args.empty() ? "" : args[0], command.resp ? DumpFormat::kResp : DumpFormat::kJson, out);
    case Verb::kRestore: return restore_from(client, args.empty() ? nullptr : &args[0], out);
    case Verb::kCall: {
      std::string reply;
      const Status s = client.call(args[0], args[1], &reply);
      if (!reply.empty()) print_line(out, reply);
      return s;
    }
  }
  return Status::ok();
}

}  // namespace shmkv::cli
