// switch_transformers: the encoder-decoder template (T5 blocks, relative
// position buckets, RMS norms) whose every sparse-step-th block has the Switch
// top-1 MoE FFN (switch_sparse_ffn.h). Adds the router outputs transformers
// returns ({encoder,decoder}_router_logits.<layer>, ..._expert_index.<layer>)
// and expert analytics recorded from the real routing.
#pragma once
#include <cstdint>
#include <vector>

#include "parts/moe_analytics.h"
#include "templates/encoder_decoder/encdec_model.h"
#include "templates/moe/switch_sparse_ffn.h"

namespace ia {

struct SwitchLayout {
  int64_t encoder_sparse_step = 0, decoder_sparse_step = 0;
  std::vector<bool> encoder_sparse, decoder_sparse;  // per block
};

// SwitchTransformersConfig: an explicit {encoder,decoder}_sparse_step in config.json
// wins; otherwise num_layers // num_sparse_encoder_layers (num_layers when that is 0).
// SwitchTransformersStack: block i is sparse when step > 0 and (i % step == 1 or step == 1).
SwitchLayout switch_layout_from_config(const HFConfig& c, int64_t n_enc, int64_t n_dec);

class SwitchModel : public EncDecModel {
 public:
  explicit SwitchModel(const ModelContext& ctx);
  SwitchModel(const ModelContext& ctx, EncDecParams params, SwitchRouterParams router);

  Family family() const override { return Family::MixtureOfExperts; }
  // EncDecModel outputs plus, per sparse block i: encoder_router_logits.i [B, S, E],
  // encoder_expert_index.i [B, S], and the decoder's ([B, T, E], [B, T]).
  TensorMap forward(const TensorMap& inputs) override;
  TensorMap generate(const TensorMap& inputs, const GenerateOptions& opts) override;
  nlohmann::json describe() const override;

  const SwitchLayout& layout() const { return layout_; }
  const SwitchRouterParams& router() const { return router_; }
  // Analytics layer ids: encoder block i -> i, decoder block i -> encoder layers + i.
  const MoeRecorder& analytics() const { return recorder_; }
  int64_t analytics_layer(bool decoder, int64_t block) const { return decoder ? params().enc.layers + block : block; }
  // The sparse FFN of a block, or nullptr for a dense block.
  SwitchSparseFfn* sparse_block(bool decoder, int64_t block) const;
  // Tokens dropped by expert capacity since the last forward()/generate() began.
  int64_t dropped_tokens() const;
  void start_recording();

 private:
  SwitchLayout layout_;
  SwitchRouterParams router_;
  MoeRecorder recorder_;
};

}  // namespace ia
