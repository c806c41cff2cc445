// The `bench` measurements: load time, prefill and decode throughput (decoders,
// with the KV cache), sequences/s (encoders), peak RSS, and the decode
// memory-bandwidth roofline. Works through the generic Model interface, so any
// template that implements forward()/generate() can be measured.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "templates/family.h"

namespace ia {
class Model;
class Checkpoint;
}  // namespace ia

namespace ia::bench {

struct BenchOptions {
  int threads = 0;              // 0: the backend default
  int64_t prompt_tokens = 128;  // decoders: prompt length; encoders: sequence length
  int64_t gen_tokens = 64;      // decoders: new tokens per sequence (>= 2)
  int64_t batch = 0;            // 0: 1 for decoders, 8 for encoders
  int repeat = 1;               // timed repetitions; the fastest is reported
  double bandwidth_gb_per_s = 0;  // > 0: use this instead of measuring
  bool roofline = true;         // measure bandwidth and report the decode roofline
  uint64_t seed = 1234;         // for the random input ids
};

// Weight figures read straight from the checkpoint.
struct WeightStats {
  int64_t parameters = 0;
  int64_t bytes = 0;            // all tensors
  int64_t bytes_per_token = 0;  // read by one decode step: all but lookup-only embedding tables
  std::string dtype;            // dtype holding most parameters ("F32", "BF16", ...)
};
WeightStats weight_stats(const Checkpoint& ck);

// What the runner needs to know about a loaded model.
struct BenchTarget {
  Family family = Family::DecoderOnly;
  std::string model_type, architecture, model_dir;
  int64_t vocab_size = 0;      // random ids are drawn below this
  int64_t max_positions = 0;   // 0: unknown (no length check)
  WeightStats weights;
  int64_t active_parameters = 0;  // mixture-of-experts: parameters one token uses (0: all)
  double load_s = 0;
};

// Times an already loaded model; returns the JSON object `bench --json` prints.
nlohmann::json bench_model(Model& model, const BenchTarget& target, const BenchOptions& opts);
// Loads MODEL_DIR (timing the load) and runs bench_model.
nlohmann::json run_bench(const std::string& model_dir, const BenchOptions& opts);

// Human-readable report of a bench_model() result.
std::string format_report(const nlohmann::json& result);

}  // namespace ia::bench
