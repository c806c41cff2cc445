// Memory-bandwidth measurements for the decode roofline: multi-threaded streaming
// reads with the cheapest possible work per byte (an XOR), four streams per thread
// (one stream alone leaves bandwidth unused: measured 28 vs 38 GB/s here).
#pragma once
#include <cstddef>
#include <vector>

namespace ia::bench {

struct BandwidthOptions {
  size_t buffer_bytes = size_t(512) << 20;  // far above any L3 this engine targets
  int threads = 0;                          // 0: the CPU backend's thread count
  int passes = 8;                           // the fastest pass is reported
};

// Read bandwidth in bytes per second (> 0) over a buffer in 2 MiB pages, the pages the
// weights of large models use (formats/weight_placement.h).
double measure_read_bandwidth(const BandwidthOptions& opts = {});

struct MemoryRegion {
  const void* data = nullptr;
  size_t bytes = 0;
};

// Seconds to read every byte of `regions` once, split evenly over `threads` threads
// (0: the CPU backend's count). Used on a model's own weights, interleaved with its
// decode steps, so the roofline is measured on the same memory at the same moment.
double time_stream_read(const std::vector<MemoryRegion>& regions, int threads = 0);

}  // namespace ia::bench
