// Memory-bandwidth probe for the decode roofline: a multi-threaded streaming
// read over a buffer much larger than the last-level cache.
#pragma once
#include <cstddef>

namespace ia::bench {

struct BandwidthOptions {
  size_t buffer_bytes = size_t(512) << 20;  // far above any L3 this engine targets
  int threads = 0;                          // 0: the CPU backend's thread count
  int passes = 8;                           // the fastest pass is reported
};

// Read bandwidth in bytes per second (> 0).
double measure_read_bandwidth(const BandwidthOptions& opts = {});

}  // namespace ia::bench
