// The mixture-of-experts family (mixtral, qwen2_moe): the decoder-only forward
// pass with MoE FFN blocks, plus the MoE-specific surface: router logits as
// outputs, expert analytics, and a num_experts_per_tok override.
#pragma once
#include <cstdint>

#include "parts/moe_analytics.h"
#include "parts/moe_ffn.h"
#include "templates/decoder_only/decoder_model.h"

namespace ia {

class MoeModel : public DecoderModel {
 public:
  explicit MoeModel(const ModelContext& ctx);

  Family family() const override { return Family::MixtureOfExperts; }
  // DecoderModel outputs plus router_logits.<j> [B*T, num_experts] for the j-th MoE
  // layer (dense qwen2_moe layers produce none, as in transformers).
  TensorMap forward(const TensorMap& inputs) override;
  TensorMap generate(const TensorMap& inputs, const GenerateOptions& opts) override;
  nlohmann::json describe() const override;

  // Routing recorded since the last forward()/generate() began.
  const MoeRecorder& analytics() const { return recorder_; }
  void set_analytics_enabled(bool on) { recorder_.set_enabled(on); }
  // Overrides num_experts_per_tok for every MoE block (1..num_experts); 0 restores the config's value.
  void set_experts_per_token(int64_t k);
  int64_t experts_per_token() const;
  int64_t num_experts() const { return params().moe.n_experts; }
  // The MoE block of model layer `layer`, or nullptr for a dense layer.
  MoeFfn* moe_block(int64_t layer) const;
  std::vector<int64_t> moe_layers() const;  // model layer indices with a MoE block

  // Clears the recorded routing (forward()/generate() do it; pipelines driving
  // prefill/decode_step themselves call it per request).
  void start_recording();

 private:
  MoeRecorder recorder_;
};

}  // namespace ia
