// libFuzzer target: any byte string handed to the safetensors reader must either
// parse into tensors whose every byte can be read, or raise ia::Error. Anything
// else (a crash, a sanitizer report, another exception type) is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "formats/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto file = ia::SafetensorsFile::from_bytes(std::string(reinterpret_cast<const char*>(data), size), "fuzz.safetensors");
    unsigned sum = 0;
    for (const auto& [name, info] : file->tensors()) {
      ia::Tensor t = file->tensor(name);
      const auto* bytes = static_cast<const unsigned char*>(t.raw());
      for (size_t i = 0; i < t.nbytes(); ++i) sum += bytes[i];  // every byte must lie inside the image
      (void)t.to_f32();
      (void)t.to_i64();
      (void)ia::shape_str(info.shape);
    }
    for (const auto& [k, v] : file->metadata()) sum += unsigned(k.size() + v.size());
    volatile unsigned sink = sum;
    (void)sink;
  } catch (const ia::Error&) {
    // Rejected with a message: the expected outcome for malformed input.
  }
  return 0;
}
