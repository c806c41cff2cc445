// Writes a Hugging Face checkpoint directory with random weights for a preset:
// config.json, generation_config.json (when the real model has one) and
// model.safetensors, or model-0000k-of-0000n.safetensors shards plus
// model.safetensors.index.json when the weights exceed one shard.
#pragma once
#include <cstdint>
#include <string>

#include "bench/presets.h"
#include "core/dtype.h"

namespace ia::bench {

struct MakeOptions {
  std::string out_dir;
  DType dtype = DType::F32;  // F32, F16 or BF16
  uint64_t seed = 0;
  // Shard size bound; keeps peak memory of the maker below it (transformers uses 5 GB).
  size_t max_shard_bytes = size_t(2) << 30;
};

struct MakeResult {
  int64_t parameters = 0;
  size_t bytes = 0;  // tensor data bytes written
  int shards = 0;
  double seconds = 0;
};

MakeResult make_checkpoint(const Preset& preset, const MakeOptions& opts);

// Fills n values of a N(0, std)-like distribution (Irwin-Hall sum of four
// uniforms) from a counter-based generator: same seed -> same values whatever
// the thread count. Exposed for tests.
void fill_normal(float* dst, size_t n, float std, uint64_t seed);

}  // namespace ia::bench
