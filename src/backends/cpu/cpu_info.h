// What the CPU this process runs on can do, detected once at start-up.
#pragma once
#include <string>

namespace ia::cpu {

struct CpuInfo {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool neon = false;
  int threads = 1;         // threads the CPU backend uses (OMP_NUM_THREADS or all cores)
  std::string model_name;  // from /proc/cpuinfo where available
  std::string kernel_isa;  // ISA of the kernels picked at run time: "avx512", "avx2", "neon", "scalar"
};

const CpuInfo& cpu_info();
// Overrides the thread count (0 = default); returns the value now in effect.
int set_num_threads(int n);

}  // namespace ia::cpu
