#include "bench/bandwidth.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "backends/cpu/cpu_info.h"
#include "core/error.h"

namespace ia::bench {

namespace {

// XOR has one-cycle latency, so a few accumulators keep the loads streaming
// (a float sum would be bound by add latency, not memory).
uint64_t xor_reduce(const uint64_t* p, size_t n) {
  uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    a0 ^= p[i];
    a1 ^= p[i + 1];
    a2 ^= p[i + 2];
    a3 ^= p[i + 3];
    a4 ^= p[i + 4];
    a5 ^= p[i + 5];
    a6 ^= p[i + 6];
    a7 ^= p[i + 7];
  }
  for (; i < n; ++i) a0 ^= p[i];
  return a0 ^ a1 ^ a2 ^ a3 ^ a4 ^ a5 ^ a6 ^ a7;
}

}  // namespace

double measure_read_bandwidth(const BandwidthOptions& opts) {
  const int threads = opts.threads > 0 ? opts.threads : cpu::cpu_info().threads;
  IA_CHECK(opts.buffer_bytes >= 4096, "bandwidth probe: buffer of ", opts.buffer_bytes, " bytes is too small");
  IA_CHECK(opts.passes >= 1, "bandwidth probe: passes must be >= 1");
  const size_t words = opts.buffer_bytes / sizeof(uint64_t);
  const size_t bytes = ((words * sizeof(uint64_t) + 63) / 64) * 64;
  std::unique_ptr<uint64_t, decltype(&std::free)> buf(static_cast<uint64_t*>(std::aligned_alloc(64, bytes)), &std::free);
  IA_CHECK(buf, "bandwidth probe: cannot allocate ", bytes, " bytes");
  uint64_t* p = buf.get();
  // First touch by the same threads that read, so pages land near them.
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t i = 0; i < int64_t(words); ++i) p[i] = uint64_t(i) * 0x9e3779b97f4a7c15ull;

  double best = 1e30;
  volatile uint64_t sink = 0;
  for (int pass = 0; pass < opts.passes; ++pass) {
    uint64_t total = 0;
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads) reduction(^ : total)
    {
      const int nt = omp_get_num_threads(), id = omp_get_thread_num();
      const size_t per = (words + nt - 1) / nt;
      const size_t b = std::min(words, per * size_t(id)), e = std::min(words, b + per);
      total ^= xor_reduce(p + b, e - b);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sink = sink ^ total;
    best = std::min(best, s);
  }
  (void)sink;
  return double(words * sizeof(uint64_t)) / std::max(best, 1e-9);
}

}  // namespace ia::bench
