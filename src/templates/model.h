// A runnable model: what an architecture template builds from a checkpoint
// directory. Inputs and outputs are named exactly as in transformers
// (input_ids, attention_mask, logits, last_hidden_state, ...).
#pragma once
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "formats/checkpoint.h"
#include "formats/hf_config.h"
#include "formats/weight_placement.h"
#include "templates/family.h"

namespace ia {

using TensorMap = std::map<std::string, Tensor>;

// Greedy/sampled decoding request as the verify runner and pipelines issue it.
struct GenerateOptions {
  int64_t max_new_tokens = 20;
  bool eos_stops = true;            // false: exactly max_new_tokens tokens, EOS ignored
  std::vector<int64_t> eos_token_ids;  // from generation_config.json / config.json when empty
  bool return_step_logits = true;   // raw logits that chose each new token
  std::optional<int64_t> pad_token_id;
  // Whisper-style generate(language=..., task=...): one language for every row or one per row.
  std::vector<std::string> language;
  std::string task;
};

// Everything a template needs to build a model: the directory, parsed configs, weights.
struct ModelContext {
  std::string dir;
  HFConfig config;                        // config.json
  std::optional<HFConfig> generation_config;  // generation_config.json when present
  std::shared_ptr<const Checkpoint> checkpoint;
  std::string model_type;
  std::string architecture;               // config.architectures[0] or "" (decides the head)
  static ModelContext open(const std::string& dir);
};

class Model {
 public:
  virtual ~Model() = default;
  virtual const std::string& model_type() const = 0;
  virtual Family family() const = 0;
  // One full forward pass: inputs -> named outputs (logits, last_hidden_state, pooler_output...).
  virtual TensorMap forward(const TensorMap& inputs) = 0;
  // Decoding with the model's cache; outputs "sequences" and "step_logits" [B, new, vocab].
  virtual TensorMap generate(const TensorMap& inputs, const GenerateOptions& opts);
  // Reference cases other than forward/generate (e.g. "stateful", "single_point").
  virtual TensorMap run_case(const std::string& case_name, const TensorMap& inputs, const nlohmann::json& case_info);
  // Template parameters for `inspect` (norm kind, positions, attention, MLP...).
  virtual nlohmann::json describe() const { return nlohmann::json::object(); }
  // Tasks the loaded heads allow ("text-generation", "fill-mask", ...).
  virtual std::vector<std::string> tasks() const { return {}; }

  // Where load_model put the weights (formats/weight_placement.h): "mmap" or "hugepages",
  // the checkpoint's bytes, and how many of them the kernel backs with 2 MiB pages.
  struct WeightMemory {
    WeightPlacement placement = WeightPlacement::Mmap;
    size_t bytes = 0, huge_page_bytes = 0;
  };
  const WeightMemory& weight_memory() const { return weight_memory_; }
  void set_weight_memory(const WeightMemory& w) { weight_memory_ = w; }

 private:
  WeightMemory weight_memory_;
};

// Models that decode one token at a time from a cache or recurrent state
// (decoder-only, state-space, MoE decoders). Pipelines drive generation through it.
class StepDecoder {
 public:
  virtual ~StepDecoder() = default;
  virtual int64_t vocab() const = 0;
  // Runs the prompt ids/mask [B, P] (mask may be null = all ones), sizing caches for
  // `capacity` positions; returns the last prompt token's logits [B, vocab].
  virtual const float* prefill(const int64_t* ids, const int64_t* mask, int64_t batch, int64_t prompt_len,
                               int64_t capacity) = 0;
  // Appends one token per row; returns its logits [B, vocab].
  virtual const float* decode_step(const int64_t* tokens) = 0;
};

// Reads config.json, picks the family template for its model_type and builds the model.
// Unknown / unsupported model types fail with a message listing what is supported.
std::unique_ptr<Model> load_model(const std::string& dir);

// Helpers for model code.
const Tensor& require_input(const TensorMap& in, const std::string& name, const std::string& model);
const Tensor* optional_input(const TensorMap& in, const std::string& name);

}  // namespace ia
