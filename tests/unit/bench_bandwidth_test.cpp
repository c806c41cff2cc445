#include <gtest/gtest.h>

#include <cmath>
#include <vector>

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

TEST(BenchBandwidth, StreamReadCoversOddUnalignedRegionsExactly) {
  // Sizes that are not multiples of the 4-stream step and starts that are not 64-byte
  // aligned: every byte is read once and none past the ends (ASan checks the latter).
  std::vector<unsigned char> a(1000003, 1), b(77, 2), c(3 * 4096 + 5, 3);
  std::vector<bench::MemoryRegion> r = {{a.data() + 3, a.size() - 3}, {b.data(), b.size()}, {c.data() + 1, c.size() - 1}};
  for (int threads : {1, 2, 3}) {
    const double s = bench::time_stream_read(r, threads);
    EXPECT_GT(s, 0.0);
    EXPECT_TRUE(std::isfinite(s));
  }
  EXPECT_GT(bench::time_stream_read({}, 2), 0.0);  // nothing to read is not an error
}
