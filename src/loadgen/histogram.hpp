// A latency histogram for shmkv-bench: log-linear buckets in the manner of
// HdrHistogram, so that recording is one array increment (no allocation, no
// search) and every percentile is exact to within 1/64 (1.6%) of its value.
#pragma once

#include <array>
#include <cstdint>

namespace shmkv::histogram {

// Values below 2 * kSubBuckets each have a bucket of their own; above that,
// each power of two [2^k, 2^(k+1)) is cut into kSubBuckets equal buckets.
inline constexpr int kSubBucketBits = 6;
inline constexpr std::uint64_t kSubBuckets = std::uint64_t(1) << kSubBucketBits;
inline constexpr std::size_t kBuckets = 2 * kSubBuckets + (64 - kSubBucketBits - 1) * kSubBuckets;

class Histogram {
 public:
  // record counts one value (shmkv-bench records nanoseconds).
  void record(std::uint64_t value);

  // merge adds every value recorded in other.
  void merge(const Histogram& other);

  std::uint64_t count() const { return count_; }
  std::uint64_t min() const { return count_ ? min_ : 0; }
  std::uint64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }

  // percentile returns the value below or at which percent (0..100) of the
  // recorded values lie: the upper bound of the bucket that holds that rank,
  // but never above max(). 0 when nothing was recorded.
  std::uint64_t percentile(double percent) const;

  // bucket_of and bucket_upper map a value to its bucket and a bucket to the
  // largest value it holds; exposed for the tests.
  static std::size_t bucket_of(std::uint64_t value);
  static std::uint64_t bucket_upper(std::size_t bucket);

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
  std::uint64_t sum_ = 0;  // wraps only after 584 years of nanoseconds
};

}  // namespace shmkv::histogram
