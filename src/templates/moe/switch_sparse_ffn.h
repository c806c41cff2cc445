// switch_transformers' sparse feed-forward layer (SwitchTransformersSparseMLP
// with its Top1Router), plugged into the encoder-decoder template's FFN hook.
//
// Per call on x [batch, seq, d_model] (the block's layer-normed hidden states):
//   logits = classifier(x) computed in router_dtype (float32/bfloat16/float16:
//            inputs, weights and results rounded to that type as torch does);
//   probs  = softmax(logits) in router_dtype; expert = argmax(probs) (first max);
//   capacity: within each batch row, in sequence order, the n-th token sent to an
//            expert is kept only while n <= expert_capacity (4.44's cumsum);
//   y      = max(probs) * expert(x) for kept tokens and max(probs) * x for dropped
//            ones (4.44 starts from a clone of the input and only overwrites kept
//            tokens, so a dropped token's "FFN output" is its scaled input).
// The reported expert index of a dropped token is 0 (argmax of an all-zero mask).
// Which experts run at all follows 4.44's scrambled reshape of the router mask
// (see forward_batch): with several tokens per row an expert can be skipped, its
// tokens then passing through like dropped ones; decoding one token is exact.
// Jitter noise is a training-time augmentation and router_ignore_padding_tokens is
// stored but never read by the 4.44 router; neither changes inference.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "backends/cpu/kernels.h"
#include "parts/nn.h"
#include "templates/encoder_decoder/encdec_model.h"

namespace ia {

class MoeRecorder;

enum class RouterDType { F32, BF16, F16 };

struct SwitchRouterParams {
  int64_t n_experts = 8;
  int64_t capacity = 64;
  bool bias = false;
  RouterDType dtype = RouterDType::F32;
  std::string dtype_name = "float32";
};

class SwitchSparseFfn : public EncDecFeedForward {
 public:
  // `module` = the block's "mlp" (router.classifier, experts.expert_<e>.wi/wo).
  SwitchSparseFfn(const SwitchRouterParams& rp, const Weights& module, int64_t d_model, int64_t d_ff, cpu::Act act,
                  const std::string& act_name);

  void forward(const float* x, int64_t rows, float* y) override { forward_batch(x, 1, rows, y); }
  void forward_batch(const float* x, int64_t batch, int64_t seq, float* y) override;
  nlohmann::json describe() const override;

  // Results of the last call: router logits [rows, E] (in router_dtype precision),
  // reported expert index [rows] (0 for dropped tokens), kept flag, max probability.
  const std::vector<float>& router_logits() const { return logits_; }
  const std::vector<int64_t>& expert_index() const { return reported_; }
  const std::vector<uint8_t>& kept() const { return kept_; }
  const std::vector<float>& top_prob() const { return top_prob_; }
  int64_t last_batch() const { return last_batch_; }
  int64_t last_seq() const { return last_seq_; }
  int64_t n_experts() const { return rp_.n_experts; }
  int64_t capacity() const { return rp_.capacity; }
  // Tokens dropped by the capacity limit since the counter was last reset.
  int64_t dropped_total() const { return dropped_total_; }
  void reset_dropped() { dropped_total_ = 0; }

  // Every call reports its routing (argmax expert, top probability) to `r` as `layer`.
  void set_recorder(MoeRecorder* r, int64_t layer) {
    recorder_ = r;
    layer_ = layer;
  }

 private:
  void route(const float* x, int64_t batch, int64_t seq);

  SwitchRouterParams rp_;
  int64_t d_model_ = 0, d_ff_ = 0;
  cpu::Act act_;
  std::string act_name_;
  std::vector<float> router_w_, router_b_;  // [E, D], [E] already rounded to router_dtype
  std::vector<Linear> wi_, wo_;             // per expert

  MoeRecorder* recorder_ = nullptr;
  int64_t layer_ = 0;
  int64_t last_batch_ = 0, last_seq_ = 0, dropped_total_ = 0;
  // Work buffers, grown on demand (decode steps allocate nothing).
  std::vector<float> logits_, probs_, top_prob_, xr_, xin_, mid_, out_;
  std::vector<int64_t> reported_, tok_;
  std::vector<int32_t> chosen_;
  std::vector<uint8_t> kept_, active_;
  std::vector<int64_t> fill_;
};

// Parses router_dtype as SwitchTransformersConfig does (float32|float16|bfloat16).
RouterDType router_dtype_from_name(const std::string& name, const std::string& where);
// Rounds v to the router dtype's precision (identity for float32).
float round_to_router_dtype(RouterDType t, float v);

}  // namespace ia
