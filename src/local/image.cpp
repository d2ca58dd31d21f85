#include "local/image.hpp"

#include <boost/version.hpp>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "store/segment_format.hpp"

namespace shmkv::local {

namespace sf = store;  // the segment's format: offsets and constants
namespace ro = store::root_offset;
namespace io = store::index_offset;
namespace no = store::node_offset;

std::int64_t wall_clock_ms() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return std::int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Why the seqlock's reads are enough (the writer's half is store_layout.hpp,
// class Change; the pattern is Boehm's, "Can seqlocks get along with
// programming language memory models?", 2012): the reader loads the sequence
// with acquire, reads what it needs with relaxed loads (and memcpy), issues
// an acquire fence, and loads the sequence again, relaxed. If any word it
// read was written by a change, the writer's release fence after making the
// sequence odd, paired with this acquire fence, makes that odd number (or a
// later one) visible to the second load, so the two loads differ; and if the
// first load saw the even number a change ended with, its acquire pairs with
// that release store and every write of the change is visible. Equal, even
// loads thus mean that no change overlapped the reads: they are one state.
// The writer's data stores are plain, so a read that overlaps one may see
// anything: every word is checked before it is followed, and only a read
// that the sequence says was stable is believed (or reported damaged).

template <typename T>
bool Image::load(std::size_t offset, T* out) const {
  if (offset > size_ || size_ - offset < sizeof(T)) return false;
  const char* at = base_ + offset;
  if (reinterpret_cast<std::uintptr_t>(at) % sizeof(T) != 0) return false;
  *out = __atomic_load_n(reinterpret_cast<const T*>(at), __ATOMIC_RELAXED);
  return true;
}

std::uint64_t Image::changes_acquire() const {
  return __atomic_load_n(reinterpret_cast<const std::uint64_t*>(base_ + root_ + ro::kChanges), __ATOMIC_ACQUIRE);
}

bool Image::unchanged_since(std::uint64_t seen) const {
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  return __atomic_load_n(reinterpret_cast<const std::uint64_t*>(base_ + root_ + ro::kChanges), __ATOMIC_RELAXED) ==
         seen;
}

int Image::locate() {
  located_ = false;
  if (reinterpret_cast<std::uintptr_t>(base_) % 8 != 0) return EPROTO;
  const std::size_t end = std::min(size_, kScan);
  for (std::size_t at = 0; at + ro::kIndex + 40 <= end; at += 8) {
    std::uint64_t magic = 0, self = 0, manager = 0;
    std::uint32_t format = 0, boost_version = 0;
    if (!load(at + ro::kMagic, &magic) || magic != sf::kMagic) continue;
    if (!load(at + ro::kFormat, &format) || format != sf::kFormat) continue;
    if (!load(at + ro::kBoostVersion, &boost_version) || boost_version != BOOST_VERSION) continue;
    if (!load(at + ro::kSelf, &self) || self != at) continue;
    // The manager lies before the root, which it allocated, and Refs count
    // from it in units of kRefUnit.
    if (!load(at + ro::kManager, &manager) || manager >= at || manager % sf::kRefUnit != 0) continue;
    // The index's seed is chosen once, when the store is made: read it
    // once, so that a key is hashed before a read begins, not inside it.
    if (!load(at + ro::kIndex + io::kSeed, &seed_)) continue;
    root_ = at;
    manager_ = manager;
    located_ = true;
    return 0;
  }
  return EPROTO;
}

bool Image::retired() const {
  std::uint32_t mark = 0;
  return located_ && load(root_ + ro::kRetired, &mark) && mark != 0;
}

// The index's words as one attempt read them, and the bounds derived from
// them. An array's position is a byte offset in the image.
struct Image::Index {
  std::size_t buckets = 0;
  std::uint32_t bucket_count = 0;
  std::size_t old_buckets = 0;
  std::uint32_t old_count = 0;
  std::uint64_t seed = 0;
  std::uint64_t max_chain = 0;  // the most nodes a chain can hold: the key count, bounded by the image

  // same_arrays: the same bucket arrays (the key count and the growth's
  // progress may differ).
  bool same_arrays(const Index& o) const {
    return buckets == o.buckets && bucket_count == o.bucket_count && old_buckets == o.old_buckets &&
           old_count == o.old_count && seed == o.seed;
  }
};

namespace {

// bucket_array turns an offset_ptr to a bucket array of count Refs into a
// checked byte offset, or false.
bool bucket_array(std::size_t field, std::int64_t raw, std::uint32_t count, std::size_t manager, std::size_t size,
                  std::size_t* out) {
  if (raw == sf::kOffsetPtrNull || count == 0 || (count & (count - 1)) != 0) return false;
  // The array lies after the manager, in the image, whole, and aligned.
  std::int64_t at = 0;
  if (__builtin_add_overflow(std::int64_t(field), raw, &at)) return false;
  if (at <= std::int64_t(manager) || std::uint64_t(at) >= size || at % alignof(std::uint32_t) != 0) return false;
  if ((size - std::size_t(at)) / sizeof(std::uint32_t) < count) return false;
  *out = std::size_t(at);
  return true;
}

}  // namespace

Image::Step Image::read_index(Index* index) const {
  const std::size_t base = root_ + ro::kIndex;
  std::int64_t buckets = 0, old_buckets = 0;
  std::uint64_t key_count = 0;
  if (!load(base + io::kBuckets, &buckets) || !load(base + io::kBucketCount, &index->bucket_count) ||
      !load(base + io::kOldBuckets, &old_buckets) || !load(base + io::kOldCount, &index->old_count) ||
      !load(base + io::kSeed, &index->seed) ||
      !load(root_ + ro::kKeyCount, &key_count))
    return Step::kBad;
  if (!bucket_array(base + io::kBuckets, buckets, index->bucket_count, manager_, size_, &index->buckets))
    return Step::kBad;
  if (index->old_count != 0 &&
      !bucket_array(base + io::kOldBuckets, old_buckets, index->old_count, manager_, size_, &index->old_buckets))
    return Step::kBad;
  // A writer that died inside a change may have left the count one off.
  index->max_chain = std::min<std::uint64_t>(key_count, size_ / no::kSize) + 2;
  return Step::kOk;
}

// A node as read from the image: its fields, and where its key and value lie.
struct Image::NodeView {
  std::uint32_t key_size = 0;
  std::uint32_t value_bits = 0;
  std::uint32_t hash = 0;
  std::uint32_t next = 0;
  std::size_t key = 0;    // byte offset of the key
  std::size_t value = 0;  // byte offset of the value
  std::int64_t expires_at_ms = 0;  // 0: never
  std::uint32_t value_size() const { return value_bits & sf::kNodeSizeMask; }
  int kind() const { return (value_bits & sf::kNodeBytesBit) ? 1 : 0; }
  bool expired(std::int64_t now_ms) const { return expires_at_ms != 0 && expires_at_ms <= now_ms; }
};

// read_node reads the node that ref names, checked: it lies after the
// manager and in the image, aligned, and so do its expiry head, key and value.
bool Image::read_node(std::uint32_t ref, NodeView* n) const {
  const std::size_t at = manager_ + std::size_t(ref) * sf::kRefUnit;
  if (ref == 0 || at >= size_ || size_ - at < no::kSize) return false;
  if (!load(at + no::kKeySize, &n->key_size) || !load(at + no::kValueBits, &n->value_bits) ||
      !load(at + no::kHash, &n->hash) || !load(at + no::kNext, &n->next))
    return false;
  std::size_t tail = at + no::kSize;
  n->expires_at_ms = 0;
  if (n->value_bits & sf::kNodeExpiryBit) {
    if (!load(tail + no::kExpiryAt, &n->expires_at_ms)) return false;
    if (n->expires_at_ms == 0) n->expires_at_ms = 1;  // a time at the epoch has passed too
    tail += no::kExpirySize;
  }
  if (tail > size_ || size_ - tail < std::size_t(n->key_size) + n->value_size()) return false;
  n->key = tail;
  n->value = tail + n->key_size;
  return true;
}

bool Image::key_is(const NodeView& n, std::string_view key) const {
  return n.key_size == key.size() && (key.empty() || std::memcmp(base_ + n.key, key.data(), key.size()) == 0);
}

Image::Step Image::find(const Index& index, std::string_view key, std::uint32_t hash, std::uint64_t seen,
                        std::int64_t now_ms, std::string* value, int* kind, bool* found) const {
  *found = false;
  if (index.seed != seed_) return Step::kBad;  // it never changes
  // The new buckets first, then, while the index grows, the old ones (as
  // IndexView::find does).
  for (int pass = 0; pass < 2; ++pass) {
    const std::size_t array = pass == 0 ? index.buckets : index.old_buckets;
    const std::uint32_t count = pass == 0 ? index.bucket_count : index.old_count;
    if (count == 0) break;
    std::uint32_t ref = 0;
    if (!load(array + std::size_t(hash & (count - 1)) * sizeof(std::uint32_t), &ref)) return Step::kBad;
    NodeView n;
    for (std::uint64_t steps = 0; ref != 0; ref = n.next) {
      if (++steps > index.max_chain || !read_node(ref, &n)) return Step::kBad;
      if (n.hash != hash || !key_is(n, key)) continue;
      // The clock is read only for a key that has an expiry: a read of it
      // costs some 60 ns here, a third of a GET.
      if (n.expires_at_ms != 0 && now_ms < 0) now_ms = wall_clock_ms();
      if (n.expired(now_ms)) return Step::kOk;  // it does not exist; the sweep removes it
      // The node's words were stable so far: then its size is true, and the
      // copy below does not allocate what a torn length asked for.
      if (!unchanged_since(seen)) return Step::kRetry;
      value->assign(base_ + n.value, n.value_size());
      *kind = n.kind();
      *found = true;
      return Step::kOk;
    }
  }
  return Step::kOk;
}

namespace {

void back_off(int attempt, const Retry& retry) {
  if (attempt >= retry.yield_attempts) {
    const timespec pause{0, long(retry.sleep_us) * 1000};
    nanosleep(&pause, nullptr);
  } else if (attempt >= retry.spin_attempts) {
    sched_yield();
  }
}

}  // namespace

int Image::get(std::string_view key, std::int64_t now_ms, std::string* value, int* kind, const Retry& retry) const {
  if (!located_) return -EPROTO;
  const std::uint32_t hash = sf::index_hash(seed_, key);
  for (int attempt = 0; attempt < retry.attempts; back_off(attempt++, retry)) {
    if (retired()) return kRetired;
    const std::uint64_t seen = changes_acquire();
    if (seen & 1) continue;  // a change is under way
    Index index;
    bool found = false;
    int found_kind = 0;
    Step step = read_index(&index);
    if (step == Step::kOk) step = find(index, key, hash, seen, now_ms, value, &found_kind, &found);
    if (step == Step::kRetry || !unchanged_since(seen)) continue;
    if (step == Step::kBad) return -EIO;  // a stable read of bad words: damage, not a race
    if (!found) return kNotFound;
    if (kind) *kind = found_kind;
    return kFound;
  }
  return -EBUSY;
}

// collect adds the keys of buckets [first, first + count) of the array at
// `array` (of `size` buckets) that start with prefix and have not expired.
Image::Step Image::collect(const Index& index, std::size_t array, std::uint32_t first, std::uint32_t count,
                           std::string_view prefix, std::int64_t now_ms, std::vector<std::string>* out,
                           std::uint64_t* budget) const {
  std::uint64_t steps = 0;  // nodes in these buckets: no more than the keys
  for (std::uint32_t b = first; b < first + count; ++b) {
    std::uint32_t ref = 0;
    if (!load(array + std::size_t(b) * sizeof(std::uint32_t), &ref)) return Step::kBad;
    NodeView n;
    for (; ref != 0; ref = n.next) {
      if (++steps > index.max_chain || !read_node(ref, &n)) return Step::kBad;
      if (*budget == 0) return Step::kRetry;
      --*budget;
      if (n.key_size < prefix.size() || n.expired(now_ms)) continue;
      if (!prefix.empty() && std::memcmp(base_ + n.key, prefix.data(), prefix.size()) != 0) continue;
      out->emplace_back(base_ + n.key, n.key_size);
    }
  }
  return Step::kOk;
}

int Image::keys(std::string_view prefix, std::int64_t now_ms, std::vector<std::string>* out,
                const Retry& retry) const {
  if (!located_) return -EPROTO;
  if (now_ms < 0) now_ms = wall_clock_ms();
  // All the nodes the walk may visit, stable chunks and torn ones alike:
  // enough to walk a full segment's worth of keys a few times over while
  // writers churn, few enough that a damaged image ends soon.
  std::uint64_t budget = 4 * (size_ / no::kSize) + 1024;
  int attempts = 0;
  for (;;) {
    out->clear();
    if (attempts >= retry.attempts || budget == 0) return -EBUSY;
    if (retired()) return kRetired;
    const std::uint64_t seen = changes_acquire();
    Index index;
    const Step step = (seen & 1) ? Step::kRetry : read_index(&index);
    if (step == Step::kRetry || !unchanged_since(seen)) {
      back_off(attempts++, retry);
      continue;
    }
    if (step == Step::kBad) return -EIO;
    const int walked = walk(index, prefix, now_ms, out, retry, &budget);
    if (walked == kRestart) {
      back_off(attempts++, retry);
      continue;
    }
    if (walked != kFound) return walked;
    std::sort(out->begin(), out->end());
    out->erase(std::unique(out->begin(), out->end()), out->end());
    return kFound;
  }
}

// walk collects the keys of every bucket of the index that read_index
// read, a chunk at a time: kFound, kRestart when the bucket arrays changed
// meanwhile (a growth began or ended: the chunks no longer add up), or an
// error. While the index grows, nodes move from the old buckets to the new
// ones only, so the old ones are walked first: a node that moves before its
// old bucket's chunk is found in the new buckets later, one that moves
// after it was found already (and is found twice, which the sort undoes). Each chunk has the whole retry budget; a chunk that a
// change overlapped is retried at half the size, so that steady writers,
// who change the store every few microseconds, still leave room for it,
// and a chunk read whole lets the next be twice as large again.
int Image::walk(const Index& index, std::string_view prefix, std::int64_t now_ms, std::vector<std::string>* out,
                const Retry& retry, std::uint64_t* budget) const {
  constexpr std::uint32_t kMaxChunk = 64;  // buckets: some 128 keys
  std::uint32_t chunk_buckets = kMaxChunk;
  std::vector<std::string> chunk;
  for (int pass = 0; pass < 2; ++pass) {
    const std::size_t array = pass == 0 ? index.old_buckets : index.buckets;
    const std::uint32_t count = pass == 0 ? index.old_count : index.bucket_count;
    int attempts = 0;
    for (std::uint32_t first = 0; first < count;) {
      const std::uint32_t n = std::min(chunk_buckets, count - first);
      const std::uint64_t seen = changes_acquire();
      chunk.clear();
      Index now;
      Step step = (seen & 1) ? Step::kRetry : read_index(&now);
      if (step == Step::kOk && !now.same_arrays(index)) {
        if (unchanged_since(seen)) return kRestart;
        step = Step::kRetry;
      }
      if (step == Step::kOk) step = collect(now, array, first, n, prefix, now_ms, &chunk, budget);
      if (!unchanged_since(seen)) step = Step::kRetry;
      if (step == Step::kBad) return -EIO;
      if (step == Step::kRetry) {
        if (*budget == 0 || attempts >= retry.attempts) return -EBUSY;
        if (retired()) return kRetired;
        chunk_buckets = std::max<std::uint32_t>(1, chunk_buckets / 2);
        back_off(attempts++, retry);
        continue;
      }
      for (std::string& key : chunk) out->push_back(std::move(key));
      first += n;
      attempts = 0;
      chunk_buckets = std::min(kMaxChunk, chunk_buckets * 2);
    }
  }
  return kFound;
}

}  // namespace shmkv::local
