// local_stress: torn-read stress for local readers (local_stress_test.sh).
// Writer processes rewrite, delete and expire keys through the client
// library, with values that check themselves; reader processes read them
// straight from the segment (shmkv/local.hpp) and verify every read. A few
// hot keys take many of the writes, with large values, and half the reads,
// so that readers often copy a value while its node is freed and reused: a
// reader without its seqlock checks fails here within a second.
//
//   local_stress PORT NAME SECONDS WRITERS READERS
//
// A value is a JSON string "KEY|GEN|LEN|SUM|PAD": its key, a generation that
// grows with each write of its writer, the length of the whole JSON text
// (from a few bytes to tens of KiB), and an FNV-1a checksum of the rest. A
// read is bad when the value is not of that form, names another key, has
// another length or checksum, or an older generation than an earlier read
// of the same key (a reader sees the store's states in order). Each writer
// ends by reading every key it owns locally: what it last wrote without an
// expiry reads back exactly, what it deleted is absent.
//
// Prints one line "reads R found F keys_calls K writes W deletes D busy B
// bad X errors E final_checked C" and exits 1 when a read was bad or any
// call failed unexpectedly (each is described on stderr).
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "shmkv/client.hpp"
#include "shmkv/local.hpp"

namespace {

using shmkv::Status;

constexpr int kKeysPerWriter = 6000;  // enough for the index to grow several times
// The first kHot keys of each writer get a large share of the writes, with
// large values, and of the reads: a reader is then often copying a value
// whose node a writer is unlinking and freeing, and whose memory the next
// write takes again, which is where a torn read would show.
constexpr int kHot = 8;
// Each writer's first kWarm writes are of new keys, so that even a slow run
// passes 4096 keys (the index grows at 2048 and 4096) with readers reading.
constexpr int kWarm = 1500;
constexpr std::size_t kBatch = 16;    // writes pipelined per round trip

// The counts each process reports to the parent through a pipe.
struct Counts {
  std::uint64_t reads = 0, found = 0, keys_calls = 0, writes = 0, deletes = 0, busy = 0, bad = 0, errors = 0,
                final_checked = 0;
};

double now_s() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

std::uint64_t fnv1a(std::string_view a, std::string_view b) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::string_view s : {a, b})
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

std::string key_name(int writer, int n) { return fmt::format("w{}:{}", writer, n); }

// make_value builds the JSON text of a value of about `length` bytes.
std::string make_value(const std::string& key, std::uint64_t gen, std::size_t length) {
  // The length field counts itself: try the digits until they agree.
  std::string head;
  std::string pad;
  for (std::size_t digits = 1; digits < 8; ++digits) {
    const std::size_t fixed = 2 + key.size() + 1 + fmt::formatted_size("{}", gen) + 1 + digits + 1 + 16 + 1;
    const std::size_t total = std::max(length, fixed);
    if (fmt::formatted_size("{}", total) != digits) continue;
    head = fmt::format("{}|{}|{}|", key, gen, total);
    pad.resize(total - fixed);
    std::uint64_t x = gen * 0x9e3779b97f4a7c15ull + 1;
    for (char& c : pad) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      c = "abcdefghijklmnopqrstuvwxyz0123456789"[x % 36];
    }
    break;
  }
  return fmt::format("\"{}{:016x}|{}\"", head, fnv1a(head, pad), pad);
}

// check_value says what is wrong with the JSON text value of key (empty: nothing),
// and sets *gen.
std::string check_value(const std::string& key, const std::string& value, std::uint64_t* gen) {
  if (value.size() < 2 || value.front() != '"' || value.back() != '"') return "not a JSON string";
  const std::string_view body(value.data() + 1, value.size() - 2);
  std::size_t bars[4];
  std::size_t at = 0;
  for (std::size_t& bar : bars) {
    bar = body.find('|', at);
    if (bar == std::string_view::npos) return "fields missing";
    at = bar + 1;
  }
  if (body.substr(0, bars[0]) != key) return fmt::format("the value of another key, {}", body.substr(0, bars[0]));
  std::uint64_t length = 0, sum = 0;
  const char* b = body.data();
  if (std::from_chars(b + bars[0] + 1, b + bars[1], *gen).ptr != b + bars[1]) return "bad generation";
  if (std::from_chars(b + bars[1] + 1, b + bars[2], length).ptr != b + bars[2]) return "bad length";
  if (std::from_chars(b + bars[2] + 1, b + bars[3], sum, 16).ptr != b + bars[3]) return "bad checksum field";
  if (length != value.size()) return fmt::format("length {} but {} bytes read", length, value.size());
  if (fnv1a(body.substr(0, bars[2] + 1), body.substr(bars[3] + 1)) != sum) return "checksum mismatch";
  return {};
}

void report(int fd, const Counts& c) {
  if (write(fd, &c, sizeof c) != ssize_t(sizeof c)) _exit(3);
}

// value_length picks a size: mostly small, now and then tens of KiB.
std::size_t value_length(std::mt19937_64& rng) {
  const unsigned p = rng() % 100;
  if (p < 55) return 8 + rng() % 60;
  if (p < 80) return 100 + rng() % 2000;
  if (p < 95) return 2000 + rng() % 14000;
  return 16000 + rng() % 30000;
}

// Writer: one connection, batches of PUTs (some with an expiry) and DELETEs.
Counts run_writer(int port, const std::string& name, double seconds, int id) {
  Counts c;
  shmkv::client::Endpoint endpoint;
  endpoint.port = static_cast<std::uint16_t>(port);
  endpoint.timeout_ms = 20000;
  std::unique_ptr<shmkv::client::Client> client;
  if (Status s = shmkv::client::Client::connect(endpoint, &client); !s) {
    std::fprintf(stderr, "writer %d: connect: %s\n", id, s.message().c_str());
    ++c.errors;
    return c;
  }
  enum class State { kAbsent, kValue, kExpiring };
  struct Key {
    State state = State::kAbsent;
    std::uint64_t gen = 0;
  };
  std::vector<Key> keys(kKeysPerWriter);
  std::mt19937_64 rng(std::uint64_t(id) * 7919 + std::uint64_t(getpid()));
  int next_new = 0;
  std::uint64_t gen = 0;
  const double end = now_s() + seconds;
  struct Planned {
    int n;
    State state;
    std::uint64_t gen;
  };
  std::vector<Planned> planned;
  std::vector<shmkv::client::Result> results;
  while (now_s() < end) {
    shmkv::client::Batch batch;
    planned.clear();
    for (std::size_t i = 0; i < kBatch; ++i) {
      const unsigned p = rng() % 100;
      const bool hot = rng() % 100 < 40;
      int n;
      bool fresh = false;
      if (next_new < kKeysPerWriter && (p < 35 || next_new < kWarm)) {
        n = next_new++;
        fresh = true;
      } else {
        n = int(rng() % unsigned(hot ? kHot : next_new));
      }
      // One write per key in a batch, so that the plan's order is the store's.
      if (std::any_of(planned.begin(), planned.end(), [n](const Planned& x) { return x.n == n; })) continue;
      const std::string key = key_name(id, n);
      if (!fresh && p >= 35 && p < 45) {
        if (Status s = batch.del(key); !s) {
          std::fprintf(stderr, "writer %d: DELETE refused: %s\n", id, s.message().c_str());
          ++c.errors;
        } else {
          planned.push_back({n, State::kAbsent, 0});
        }
        continue;
      }
      shmkv::client::PutOptions options;
      State state = State::kValue;
      if (p >= 45 && p < 55) {
        options.ttl_ms = 200 + std::int64_t(rng() % 800);
        state = State::kExpiring;
      }
      ++gen;
      const std::size_t length = hot && n < kHot ? 8000 + rng() % 40000 : value_length(rng);
      if (Status s = batch.put(key, make_value(key, gen, length), options); !s) {
        std::fprintf(stderr, "writer %d: PUT refused: %s\n", id, s.message().c_str());
        ++c.errors;
      } else {
        planned.push_back({n, state, gen});
      }
    }
    if (Status s = client->run(batch, &results); !s) {
      std::fprintf(stderr, "writer %d: batch: %s\n", id, s.message().c_str());
      ++c.errors;
      return c;
    }
    if (results.size() != planned.size()) {
      std::fprintf(stderr, "writer %d: %zu results for %zu requests\n", id, results.size(), planned.size());
      ++c.errors;
      return c;
    }
    for (std::size_t i = 0; i < planned.size(); ++i) {
      const Status& s = results[i].status;
      if (planned[i].state == State::kAbsent) {
        ++c.deletes;
        if (!s && !s.is_not_found()) {
          std::fprintf(stderr, "writer %d: DELETE: %s\n", id, s.message().c_str());
          ++c.errors;
        }
      } else {
        ++c.writes;
        if (!s) {
          std::fprintf(stderr, "writer %d: PUT: %s\n", id, s.message().c_str());
          ++c.errors;
        }
      }
      keys[std::size_t(planned[i].n)] = {planned[i].state, planned[i].gen};
    }
  }
  // What this writer's acknowledged writes left, read locally.
  std::unique_ptr<shmkv::local::Reader> reader;
  if (Status s = shmkv::local::Reader::open(name, &reader); !s) {
    std::fprintf(stderr, "writer %d: open: %s\n", id, s.message().c_str());
    ++c.errors;
    return c;
  }
  std::string value;
  for (int n = 0; n < next_new; ++n) {
    const Key& k = keys[std::size_t(n)];
    if (k.state == State::kExpiring) continue;  // there or not, by the clock
    const std::string key = key_name(id, n);
    Status s = reader->get(key, &value);
    for (int tries = 0; s.code() == Status::Code::kBusy && tries < 100; ++tries) s = reader->get(key, &value);
    ++c.final_checked;
    std::uint64_t got = 0;
    if (k.state == State::kAbsent) {
      if (!s.is_not_found()) {
        std::fprintf(stderr, "writer %d: %s was deleted, but reads %s\n", id, key.c_str(),
                     s ? value.substr(0, 60).c_str() : s.message().c_str());
        ++c.bad;
      }
    } else if (!s) {
      std::fprintf(stderr, "writer %d: %s: %s\n", id, key.c_str(), s.message().c_str());
      ++c.bad;
    } else if (std::string why = check_value(key, value, &got); !why.empty() || got != k.gen) {
      std::fprintf(stderr, "writer %d: %s: last written generation %llu, read %llu %s\n", id, key.c_str(),
                   (unsigned long long)k.gen, (unsigned long long)got, why.c_str());
      ++c.bad;
    }
  }
  return c;
}

// Reader: GETs of random keys, and now and then KEYS of a prefix, verified.
Counts run_reader(const std::string& name, double seconds, int writers, int id) {
  Counts c;
  std::unique_ptr<shmkv::local::Reader> reader;
  if (Status s = shmkv::local::Reader::open(name, &reader); !s) {
    std::fprintf(stderr, "reader %d: open: %s\n", id, s.message().c_str());
    ++c.errors;
    return c;
  }
  std::unordered_map<std::string, std::uint64_t> last_gen;
  std::mt19937_64 rng(std::uint64_t(id) * 104729 + std::uint64_t(getpid()));
  std::string value;
  std::vector<std::string> listed;
  const double end = now_s() + seconds;
  while (now_s() < end) {
    for (int i = 0; i < 64; ++i) {
      const int n = int(rng() % 2 ? rng() % kHot : rng() % kKeysPerWriter);
      const std::string key = key_name(int(rng() % unsigned(writers)), n);
      shmkv::local::Kind kind = shmkv::local::Kind::kBytes;
      const Status s = reader->get(key, &value, &kind);
      ++c.reads;
      if (s.is_not_found()) continue;
      if (s.code() == Status::Code::kBusy) {
        ++c.busy;
        continue;
      }
      if (!s) {
        std::fprintf(stderr, "reader %d: get %s: %s\n", id, key.c_str(), s.message().c_str());
        ++c.errors;
        continue;
      }
      ++c.found;
      std::uint64_t gen = 0;
      std::string why = check_value(key, value, &gen);
      if (why.empty() && kind != shmkv::local::Kind::kJson) why = "kind bytes for a JSON PUT";
      std::uint64_t& seen = last_gen[key];
      if (why.empty() && gen < seen) why = fmt::format("generation {} after {}", gen, seen);
      if (!why.empty()) {
        std::fprintf(stderr, "reader %d: BAD READ of %s (%zu bytes): %s: %.80s\n", id, key.c_str(), value.size(),
                     why.c_str(), value.c_str());
        ++c.bad;
        continue;
      }
      seen = gen;
    }
    // KEYS of a prefix of some tens of keys: each listed one well formed,
    // under the prefix, sorted and once.
    const std::string prefix = fmt::format("w{}:{}", rng() % unsigned(writers), 1 + rng() % 59);
    const Status s = reader->keys(prefix, &listed);
    ++c.keys_calls;
    if (s.code() == Status::Code::kBusy) {
      ++c.busy;
    } else if (!s) {
      std::fprintf(stderr, "reader %d: keys %s: %s\n", id, prefix.c_str(), s.message().c_str());
      ++c.errors;
    } else {
      for (std::size_t i = 0; i < listed.size(); ++i) {
        const std::string& k = listed[i];
        int w = 0, n = 0;
        const bool formed = std::sscanf(k.c_str(), "w%d:%d", &w, &n) == 2 && k == key_name(w, n) &&
                            w < writers && n < kKeysPerWriter;
        if (!formed || k.compare(0, prefix.size(), prefix) != 0 || (i > 0 && listed[i - 1] >= k)) {
          std::fprintf(stderr, "reader %d: BAD KEYS %s: %.80s\n", id, prefix.c_str(), k.c_str());
          ++c.bad;
          break;
        }
      }
    }
  }
  return c;
}

int usage() {
  std::fprintf(stderr, "usage: local_stress PORT NAME SECONDS WRITERS READERS\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) return usage();
  const int port = std::atoi(argv[1]);
  const std::string name = argv[2];
  const double seconds = std::atof(argv[3]);
  const int writers = std::atoi(argv[4]);
  const int readers = std::atoi(argv[5]);
  if (port <= 0 || seconds <= 0 || writers <= 0 || readers <= 0) return usage();
  struct Child {
    pid_t pid;
    int fd;
  };
  std::vector<Child> children;
  for (int i = 0; i < readers + writers; ++i) {
    int fds[2];
    if (pipe(fds) < 0) {
      std::perror("pipe");
      return 1;
    }
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
      std::perror("fork");
      return 1;
    }
    if (pid == 0) {
      close(fds[0]);
      // Readers start first and end last, so that they read through every write.
      const Counts c = i < readers ? run_reader(name, seconds + 0.3, writers, i)
                                   : run_writer(port, name, seconds, i - readers);
      report(fds[1], c);
      _exit(0);
    }
    close(fds[1]);
    children.push_back({pid, fds[0]});
    if (i + 1 == readers) usleep(100000);
  }
  Counts total;
  int failed_children = 0;
  for (const Child& child : children) {
    Counts c;
    const ssize_t n = read(child.fd, &c, sizeof c);
    close(child.fd);
    int status = 0;
    waitpid(child.pid, &status, 0);
    if (n != ssize_t(sizeof c) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "child %d ended without its counts (status %d)\n", int(child.pid), status);
      ++failed_children;
      continue;
    }
    total.reads += c.reads, total.found += c.found, total.keys_calls += c.keys_calls, total.writes += c.writes,
        total.deletes += c.deletes, total.busy += c.busy, total.bad += c.bad, total.errors += c.errors,
        total.final_checked += c.final_checked;
  }
  std::printf("reads %llu found %llu keys_calls %llu writes %llu deletes %llu busy %llu bad %llu errors %llu "
              "final_checked %llu\n",
              (unsigned long long)total.reads, (unsigned long long)total.found,
              (unsigned long long)total.keys_calls, (unsigned long long)total.writes,
              (unsigned long long)total.deletes, (unsigned long long)total.busy, (unsigned long long)total.bad,
              (unsigned long long)(total.errors + std::uint64_t(failed_children)),
              (unsigned long long)total.final_checked);
  return total.bad == 0 && total.errors == 0 && failed_children == 0 ? 0 : 1;
}
