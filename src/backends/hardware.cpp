#include "backends/hardware.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "backends/cpu/cpu_info.h"
#include "core/error.h"

namespace ia {

namespace fs = std::filesystem;

// Looks for the library file in the loader's usual places without loading it:
// probing must not run a vendor library's initialisers (they allocate, spawn
// threads and leak, which would also trip LeakSanitizer).
bool shared_library_present(const char* soname) {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("LD_LIBRARY_PATH")) {
    std::stringstream ss(env);
    std::string d;
    while (std::getline(ss, d, ':'))
      if (!d.empty()) dirs.push_back(d);
  }
  for (const char* d : {"/lib", "/usr/lib", "/lib64", "/usr/lib64", "/usr/local/lib", "/lib/x86_64-linux-gnu",
                        "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                        "/usr/local/cuda/lib64", "/usr/local/cuda/lib", "/opt/rocm/lib", "/opt/intel/openvino/runtime/lib/intel64"})
    dirs.push_back(d);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/local", ec))  // versioned toolkits: /usr/local/cuda-13.0/lib
    if (e.path().filename().string().rfind("cuda", 0) == 0) {
      dirs.push_back((e.path() / "lib").string());
      dirs.push_back((e.path() / "lib64").string());
    }
  for (const auto& d : dirs)
    if (fs::exists(fs::path(d) / soname, ec)) return true;
  return false;
}

namespace {

int64_t meminfo_bytes(const std::string& key) {
  std::ifstream in("/proc/meminfo");
  std::string k;
  int64_t v = 0;
  std::string unit;
  while (in >> k >> v >> unit)
    if (k == key + ":") return v * 1024;
  return 0;
}

class CpuHardware : public HardwareTemplate {
 public:
  std::string name() const override { return "cpu"; }
  HardwareStatus detect() const override {
    const auto& c = cpu::cpu_info();
    HardwareStatus s;
    s.name = "cpu";
    s.description = c.model_name.empty() ? "CPU" : c.model_name;
    s.present = true;
    s.implemented = true;
    s.detail = cat(c.threads, " threads, kernels: ", c.kernel_isa, " (avx2=", c.avx2, ", avx512f=", c.avx512f,
                   ", fma=", c.fma, ", neon=", c.neon, "); GEMM: oneDNN sgemm");
    s.memory_total = meminfo_bytes("MemTotal");
    s.memory_available = meminfo_bytes("MemAvailable");
    s.weight_dtypes = {"F32", "F16", "BF16"};
    s.compute_dtypes = {"F32"};
    s.kernels = {c.kernel_isa + " dot/GEMV", "oneDNN sgemm", "OpenMP threads"};
    return s;
  }
};

// Accelerators this build detects but has no kernels for yet: presence is probed
// from device nodes and driver libraries so the plan can say exactly what is missing.
class ProbedHardware : public HardwareTemplate {
 public:
  ProbedHardware(std::string name, std::string description, std::vector<std::string> device_paths,
                 std::vector<std::string> driver_libs, std::vector<std::string> toolkit_libs, std::string not_here = "")
      : name_(std::move(name)), description_(std::move(description)), devices_(std::move(device_paths)),
        drivers_(std::move(driver_libs)), toolkits_(std::move(toolkit_libs)), not_here_(std::move(not_here)) {}
  std::string name() const override { return name_; }
  HardwareStatus detect() const override {
    HardwareStatus s;
    s.name = name_;
    s.description = description_;
    s.implemented = false;
    if (!not_here_.empty()) {
      s.detail = not_here_;
      return s;
    }
    std::string dev_found, drv_found, kit_found;
    for (const auto& d : devices_)
      if (fs::exists(d)) dev_found = d;
    for (const auto& l : drivers_)
      if (shared_library_present(l.c_str())) drv_found = l;
    for (const auto& l : toolkits_)
      if (shared_library_present(l.c_str())) kit_found = l;
    s.present = (devices_.empty() || !dev_found.empty()) && !drv_found.empty();
    std::ostringstream os;
    if (!devices_.empty()) os << (dev_found.empty() ? "no device node (" + devices_[0] + ")" : "device " + dev_found);
    if (!drivers_.empty())
      os << (os.tellp() > 0 ? "; " : "") << (drv_found.empty() ? "driver library " + drivers_[0] + " not found" : "driver " + drv_found);
    if (!toolkits_.empty())
      os << "; toolkit " << (kit_found.empty() ? toolkits_[0] + " not found" : kit_found + " found");
    os << "; no " << name_ << " kernels in this build";
    s.detail = os.str();
    return s;
  }

 private:
  std::string name_, description_;
  std::vector<std::string> devices_, drivers_, toolkits_;
  std::string not_here_;
};

}  // namespace

const std::vector<std::unique_ptr<HardwareTemplate>>& hardware_templates() {
  static const std::vector<std::unique_ptr<HardwareTemplate>> t = [] {
    std::vector<std::unique_ptr<HardwareTemplate>> v;
    v.push_back(std::make_unique<CpuHardware>());
    v.push_back(std::make_unique<ProbedHardware>("cuda", "NVIDIA CUDA", std::vector<std::string>{"/dev/nvidia0"},
                                                 std::vector<std::string>{"libcuda.so.1"},
                                                 std::vector<std::string>{"libcudart.so", "libcublas.so"}));
    v.push_back(std::make_unique<ProbedHardware>("rocm", "AMD ROCm", std::vector<std::string>{"/dev/kfd"},
                                                 std::vector<std::string>{"libamdhip64.so"},
                                                 std::vector<std::string>{"librocblas.so"}));
    v.push_back(std::make_unique<ProbedHardware>("vulkan", "Vulkan compute", std::vector<std::string>{"/dev/dri"},
                                                 std::vector<std::string>{"libvulkan.so.1"}, std::vector<std::string>{}));
    v.push_back(std::make_unique<ProbedHardware>("openvino", "Intel OpenVINO", std::vector<std::string>{},
                                                 std::vector<std::string>{"libopenvino.so"}, std::vector<std::string>{}));
#if defined(__APPLE__)
    v.push_back(std::make_unique<ProbedHardware>("metal", "Apple Metal", std::vector<std::string>{},
                                                 std::vector<std::string>{"/System/Library/Frameworks/Metal.framework/Metal"},
                                                 std::vector<std::string>{}));
#else
    v.push_back(std::make_unique<ProbedHardware>("metal", "Apple Metal", std::vector<std::string>{}, std::vector<std::string>{},
                                                 std::vector<std::string>{}, "Apple Metal exists only on macOS; this is not macOS"));
#endif
    v.push_back(std::make_unique<ProbedHardware>("qnn", "Qualcomm QNN (Hexagon NPU)", std::vector<std::string>{},
                                                 std::vector<std::string>{"libQnnHtp.so"}, std::vector<std::string>{}));
    v.push_back(std::make_unique<ProbedHardware>(
        "webgpu", "WebGPU", std::vector<std::string>{}, std::vector<std::string>{}, std::vector<std::string>{},
        "WebGPU runs inside a browser (or via Dawn/wgpu, not installed); no WebGPU target in this native build"));
    v.push_back(std::make_unique<ProbedHardware>(
        "webnn", "WebNN", std::vector<std::string>{}, std::vector<std::string>{}, std::vector<std::string>{},
        "WebNN is a browser API; no WebNN target in this native build"));
    return v;
  }();
  return t;
}

const HardwareTemplate* find_hardware(const std::string& name) {
  for (const auto& h : hardware_templates())
    if (h->name() == name) return h.get();
  return nullptr;
}

std::vector<std::string> hardware_names() {
  std::vector<std::string> r;
  for (const auto& h : hardware_templates()) r.push_back(h->name());
  return r;
}

}  // namespace ia
