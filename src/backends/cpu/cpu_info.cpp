#include "backends/cpu/cpu_info.h"

#include <omp.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace ia::cpu {

namespace {
CpuInfo detect() {
  CpuInfo c;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  c.avx2 = __builtin_cpu_supports("avx2");
  c.fma = __builtin_cpu_supports("fma");
  c.avx512f = __builtin_cpu_supports("avx512f");
  c.avx512bw = __builtin_cpu_supports("avx512bw");
  // F16C ships with every AVX2 CPU in practice; GCC has no __builtin_cpu_supports("f16c").
  c.f16c = c.avx2;
#elif defined(__aarch64__)
  c.neon = true;
#endif
  if (c.avx512f && c.avx512bw && c.fma) c.kernel_isa = "avx512";
  else if (c.avx2 && c.fma) c.kernel_isa = "avx2";
  else if (c.neon) c.kernel_isa = "neon";
  else c.kernel_isa = "scalar";
  // IA_KERNEL_ISA picks a lesser kernel set than the CPU allows (tests run the AVX2 and
  // portable kernels on AVX-512 machines this way); a set the CPU lacks is refused.
  if (const char* want = std::getenv("IA_KERNEL_ISA"); want && *want) {
    const std::string w = want;
    const bool ok = w == "scalar" || (w == "avx2" && c.avx2 && c.fma) || (w == "avx512" && c.kernel_isa == "avx512") ||
                    (w == "neon" && c.neon);
    if (ok) c.kernel_isa = w;
    else std::fprintf(stderr, "ipfs-accelerate: IA_KERNEL_ISA=%s is not available on this CPU; using %s\n", want,
                      c.kernel_isa.c_str());
  }
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto p = line.find(':');
      if (p != std::string::npos) c.model_name = line.substr(p + 2);
      break;
    }
  }
  c.threads = omp_get_max_threads();
  return c;
}
CpuInfo& mutable_info() {
  static CpuInfo info = detect();
  return info;
}
}  // namespace

const CpuInfo& cpu_info() { return mutable_info(); }

int set_num_threads(int n) {
  if (n > 0) {
    omp_set_num_threads(n);
    mutable_info().threads = n;
  }
  return mutable_info().threads;
}

}  // namespace ia::cpu
