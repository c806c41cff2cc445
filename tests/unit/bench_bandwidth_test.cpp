#include <gtest/gtest.h>

#include <cmath>

#include "bench/bandwidth.h"
#include "bench/memory_usage.h"
#include "core/error.h"

using namespace ia;

TEST(BenchBandwidth, ProbeReturnsPositiveBandwidth) {
  bench::BandwidthOptions o;
  o.buffer_bytes = size_t(16) << 20;  // small for a fast test; no timing assertion beyond > 0
  o.passes = 2;
  o.threads = 2;
  const double bw = bench::measure_read_bandwidth(o);
  EXPECT_GT(bw, 0.0);
  EXPECT_TRUE(std::isfinite(bw));
}

TEST(BenchBandwidth, RejectsDegenerateOptions) {
  bench::BandwidthOptions o;
  o.buffer_bytes = 16;
  EXPECT_THROW(bench::measure_read_bandwidth(o), Error);
  o.buffer_bytes = size_t(1) << 20;
  o.passes = 0;
  EXPECT_THROW(bench::measure_read_bandwidth(o), Error);
}

TEST(BenchMemory, ResidentSetIsReportedAndPeakIsAtLeastCurrent) {
  const int64_t cur = bench::current_rss_bytes();
  const int64_t peak = bench::peak_rss_bytes();
  EXPECT_GT(cur, 0);
  EXPECT_GE(peak, cur);
}
