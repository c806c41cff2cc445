// Hardware templates: one interface for every kind of device the engine could
// run on. Each reports honestly whether the device is present, whether this
// build implements kernels for it, its memory and dtypes. The CPU template is
// implemented; the others detect and explain what is missing. Nothing falls
// back silently: the composer records what was requested and what runs.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ia {

struct HardwareStatus {
  std::string name;          // "cpu", "cuda", "rocm", ...
  std::string description;   // human name of the device / stack
  bool present = false;      // the device (and its driver) is on this machine
  bool implemented = false;  // this build has kernels for it
  std::string detail;        // what was found, or what is missing
  int64_t memory_total = 0;  // bytes (0 = unknown)
  int64_t memory_available = 0;
  std::vector<std::string> weight_dtypes;  // dtypes weights may be stored in
  std::vector<std::string> compute_dtypes;
  std::vector<std::string> kernels;        // kernel families / ISAs
  bool usable() const { return present && implemented; }
};

class HardwareTemplate {
 public:
  virtual ~HardwareTemplate() = default;
  virtual std::string name() const = 0;
  virtual HardwareStatus detect() const = 0;
};

// All hardware templates, CPU first (the order the composer prefers).
const std::vector<std::unique_ptr<HardwareTemplate>>& hardware_templates();
const HardwareTemplate* find_hardware(const std::string& name);
std::vector<std::string> hardware_names();

// Individual probes (exposed for tests).
// True when `soname` exists in the loader search path (the file is not loaded).
bool shared_library_present(const char* soname);

}  // namespace ia
