#include "bench/bandwidth.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>

#include "backends/cpu/cpu_info.h"
#include "core/error.h"
#include "core/huge_pages.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace ia::bench {

namespace {

// XOR has one-cycle latency, so a few accumulators keep the loads streaming
// (a float sum would be bound by add latency, not memory).
uint64_t xor_portable(const unsigned char* p, size_t n) {
  uint64_t a[8] = {};
  size_t i = 0;
  for (; i + 64 <= n; i += 64)
    for (int j = 0; j < 8; ++j) {
      uint64_t w;
      std::memcpy(&w, p + i + 8 * j, 8);
      a[j] ^= w;
    }
  for (; i < n; ++i) a[0] ^= p[i];
  return a[0] ^ a[1] ^ a[2] ^ a[3] ^ a[4] ^ a[5] ^ a[6] ^ a[7];
}

#if defined(__x86_64__)
// Four streams a quarter of the range apart, two 64-byte lines from each per step.
__attribute__((target("avx512f"))) uint64_t xor_avx512(const unsigned char* p, size_t n) {
  const size_t q = n / 4 / 128 * 128;
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i < q; i += 128) {
    const unsigned char* s = p + i;
    a0 = _mm512_xor_si512(a0, _mm512_xor_si512(_mm512_loadu_si512(s), _mm512_loadu_si512(s + 64)));
    a1 = _mm512_xor_si512(a1, _mm512_xor_si512(_mm512_loadu_si512(s + q), _mm512_loadu_si512(s + q + 64)));
    a2 = _mm512_xor_si512(a2, _mm512_xor_si512(_mm512_loadu_si512(s + 2 * q), _mm512_loadu_si512(s + 2 * q + 64)));
    a3 = _mm512_xor_si512(a3, _mm512_xor_si512(_mm512_loadu_si512(s + 3 * q), _mm512_loadu_si512(s + 3 * q + 64)));
  }
  const __m512i a = _mm512_xor_si512(_mm512_xor_si512(a0, a1), _mm512_xor_si512(a2, a3));
  uint64_t lanes[8];
  _mm512_storeu_si512(lanes, a);
  uint64_t r = xor_portable(p + 4 * q, n - 4 * q);
  for (uint64_t v : lanes) r ^= v;
  return r;
}

#define IA_LD256(x) _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x))
__attribute__((target("avx2"))) uint64_t xor_avx2(const unsigned char* p, size_t n) {
  const size_t q = n / 4 / 64 * 64;
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i < q; i += 64) {
    const unsigned char* s = p + i;
    a0 = _mm256_xor_si256(a0, _mm256_xor_si256(IA_LD256(s), IA_LD256(s + 32)));
    a1 = _mm256_xor_si256(a1, _mm256_xor_si256(IA_LD256(s + q), IA_LD256(s + q + 32)));
    a2 = _mm256_xor_si256(a2, _mm256_xor_si256(IA_LD256(s + 2 * q), IA_LD256(s + 2 * q + 32)));
    a3 = _mm256_xor_si256(a3, _mm256_xor_si256(IA_LD256(s + 3 * q), IA_LD256(s + 3 * q + 32)));
  }
  const __m256i a = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
  uint64_t lanes[4];
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(lanes), a);
  uint64_t r = xor_portable(p + 4 * q, n - 4 * q);
  for (uint64_t v : lanes) r ^= v;
  return r;
}
#undef IA_LD256
#endif

uint64_t xor_range(const unsigned char* p, size_t n) {
#if defined(__x86_64__)
  static const std::string isa = cpu::cpu_info().kernel_isa;
  if (isa == "avx512") return xor_avx512(p, n);
  if (isa == "avx2") return xor_avx2(p, n);
#endif
  return xor_portable(p, n);
}

volatile uint64_t g_sink = 0;  // keeps the reads from being optimised away

}  // namespace

double time_stream_read(const std::vector<MemoryRegion>& regions, int threads) {
  size_t total = 0;
  for (const auto& r : regions) total += r.bytes;
  const int nt = threads > 0 ? threads : cpu::cpu_info().threads;
  uint64_t acc = 0;
  const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(nt) reduction(^ : acc)
  {
    // Thread i reads bytes [total*i/n, total*(i+1)/n) of the regions laid end to end.
    const int n = omp_get_num_threads(), id = omp_get_thread_num();
    size_t from = total * size_t(id) / size_t(n), to = total * size_t(id + 1) / size_t(n), base = 0;
    for (const auto& r : regions) {
      const size_t b = std::max(from, base), e = std::min(to, base + r.bytes);
      if (b < e) acc ^= xor_range(static_cast<const unsigned char*>(r.data) + (b - base), e - b);
      base += r.bytes;
    }
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  g_sink = g_sink ^ acc;
  return std::max(s, 1e-9);
}

double measure_read_bandwidth(const BandwidthOptions& opts) {
  const int threads = opts.threads > 0 ? opts.threads : cpu::cpu_info().threads;
  IA_CHECK(opts.buffer_bytes >= 4096, "bandwidth probe: buffer of ", opts.buffer_bytes, " bytes is too small");
  IA_CHECK(opts.passes >= 1, "bandwidth probe: passes must be >= 1");
  HugePageBuffer buf(opts.buffer_bytes, "bandwidth probe");
  unsigned char* p = buf.data();
  const int64_t words = int64_t(opts.buffer_bytes / 8);
  // First touch by the same threads that read, so pages land near them.
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t i = 0; i < words; ++i) {
    const uint64_t v = uint64_t(i) * 0x9e3779b97f4a7c15ull;
    std::memcpy(p + 8 * i, &v, 8);
  }
  double best = 1e30;
  for (int pass = 0; pass < opts.passes; ++pass)
    best = std::min(best, time_stream_read({{p, size_t(words) * 8}}, threads));
  return double(words * 8) / best;
}

}  // namespace ia::bench
