#include "loadgen/histogram.hpp"

#include <doctest/doctest.h>

#include <cstdint>

using shmkv::histogram::Histogram;
using shmkv::histogram::kBuckets;
using shmkv::histogram::kSubBuckets;

TEST_CASE("histogram: small values have buckets of their own") {
  for (std::uint64_t v = 0; v < 2 * kSubBuckets; ++v) {
    CAPTURE(v);
    CHECK(Histogram::bucket_of(v) == v);
    CHECK(Histogram::bucket_upper(v) == v);
  }
}

TEST_CASE("histogram: buckets are contiguous, ordered, and within 1/64 of their values") {
  std::size_t previous = 0;
  for (std::uint64_t v = 1; v < (std::uint64_t(1) << 20); v += 1 + v / 997) {
    CAPTURE(v);
    const std::size_t b = Histogram::bucket_of(v);
    CHECK(b >= previous);
    CHECK(b <= previous + 1);  // no bucket is skipped when v grows by less than a bucket
    previous = b;
    const std::uint64_t upper = Histogram::bucket_upper(b);
    CHECK(upper >= v);
    CHECK(static_cast<double>(upper - v) <= static_cast<double>(v) / 64.0);
    CHECK(Histogram::bucket_of(upper) == b);
    CHECK(Histogram::bucket_of(upper + 1) == b + 1);
  }
}

TEST_CASE("histogram: the largest values fit in the last bucket") {
  CHECK(Histogram::bucket_of(UINT64_MAX) == kBuckets - 1);
  CHECK(Histogram::bucket_upper(kBuckets - 1) == UINT64_MAX);
  CHECK(Histogram::bucket_of(std::uint64_t(1) << 63) < kBuckets - 1);
}

TEST_CASE("histogram: percentiles of 1..10000 are within 1.6%") {
  Histogram h;
  for (std::uint64_t v = 1; v <= 10000; ++v) h.record(v);
  CHECK(h.count() == 10000);
  CHECK(h.min() == 1);
  CHECK(h.max() == 10000);
  CHECK(h.mean() == doctest::Approx(5000.5));
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9}) {
    CAPTURE(p);
    const double exact = p * 100.0;
    const auto got = static_cast<double>(h.percentile(p));
    CHECK(got >= exact);
    CHECK(got <= exact * (1.0 + 1.0 / 64.0));
  }
  CHECK(h.percentile(100) == 10000);
  CHECK(h.percentile(0) == 1);
}

TEST_CASE("histogram: a percentile never exceeds the largest value recorded") {
  Histogram h;
  h.record(1000001);
  CHECK(h.percentile(50) == 1000001);
  CHECK(h.percentile(99.9) == 1000001);
}

TEST_CASE("histogram: an empty histogram reports zeros") {
  const Histogram h;
  CHECK(h.count() == 0);
  CHECK(h.min() == 0);
  CHECK(h.max() == 0);
  CHECK(h.mean() == 0.0);
  CHECK(h.percentile(50) == 0);
}

TEST_CASE("histogram: merge adds counts, extremes and sums") {
  Histogram a, b;
  for (std::uint64_t v = 1; v <= 100; ++v) a.record(v);
  for (std::uint64_t v = 101; v <= 200; ++v) b.record(v);
  a.merge(b);
  CHECK(a.count() == 200);
  CHECK(a.min() == 1);
  CHECK(a.max() == 200);
  CHECK(a.mean() == doctest::Approx(100.5));
  CHECK(a.percentile(50) == 100);
}
