#include "loadgen/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace shmkv::histogram {

// Bucket layout: values 0 .. 2S-1 (S = kSubBuckets) map to themselves. A larger
// value v is shifted right until it lies in [S, 2S); shift s >= 1 then selects
// the group of S buckets starting at 2S + (s - 1) * S, and (v >> s) - S the
// bucket within it. A bucket in group s is 2^s wide and starts at or above
// S * 2^s, hence the relative precision of 1/S.
std::size_t Histogram::bucket_of(std::uint64_t value) {
  if (value < 2 * kSubBuckets) return static_cast<std::size_t>(value);
  const int shift = std::bit_width(value) - (kSubBucketBits + 1);
  return static_cast<std::size_t>(2 * kSubBuckets + (shift - 1) * kSubBuckets + ((value >> shift) - kSubBuckets));
}

std::uint64_t Histogram::bucket_upper(std::size_t bucket) {
  if (bucket < 2 * kSubBuckets) return bucket;
  const std::size_t shift = (bucket - 2 * kSubBuckets) / kSubBuckets + 1;
  const std::uint64_t sub = (bucket - 2 * kSubBuckets) % kSubBuckets + kSubBuckets;
  // The last bucket's upper bound is 2^64 - 1, computed without overflow.
  return (sub << shift) + ((std::uint64_t(1) << shift) - 1);
}

void Histogram::record(std::uint64_t value) {
  ++counts_[bucket_of(value)];
  ++count_;
  sum_ += value;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void Histogram::merge(const Histogram& other) {
  for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

std::uint64_t Histogram::percentile(double percent) const {
  if (count_ == 0) return 0;
  const double clamped = std::clamp(percent, 0.0, 100.0);
  // The rank of the value asked for, counted from 1: the smallest value at or
  // above which lie at most (100 - percent)% of the others.
  auto rank = static_cast<std::uint64_t>(std::ceil(clamped / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(bucket_upper(i), max_);
  }
  return max_;
}

}  // namespace shmkv::histogram
