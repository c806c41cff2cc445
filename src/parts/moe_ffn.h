// Mixture-of-experts feed-forward block (llama.cpp's build_moe_ffn): router
// linear -> softmax -> top-k -> optional renormalisation -> only the selected
// experts run (tokens grouped per expert so each expert's weights are streamed
// once per call) -> weighted sum, plus an optional sigmoid-gated shared expert
// (qwen2_moe). Experts are gated MLPs: down(act(gate(x)) * up(x)).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "backends/cpu/kernels.h"
#include "parts/nn.h"
#include "parts/weights.h"

namespace ia {

class MoeRecorder;

// What a model type's config says about its MoE blocks (filled by the row).
struct MoeParams {
  int64_t n_experts = 0;            // 0: the model has no MoE blocks
  int64_t top_k = 0;                // num_experts_per_tok
  int64_t expert_intermediate = 0;  // per routed expert
  bool norm_topk = false;           // renormalise the top-k weights to sum 1
  int64_t shared_intermediate = 0;  // 0: no shared expert
  std::vector<bool> sparse_layer;   // per layer: MoE block (true) or the dense MLP
  // Weight names relative to the layer.
  std::string block;                                     // "block_sparse_moe" | "mlp"
  std::string router = "gate";
  std::string experts = "experts";
  std::string e_gate, e_up, e_down;                      // "w1","w3","w2" | "gate_proj","up_proj","down_proj"
  std::string shared = "shared_expert", shared_gate = "shared_expert_gate";
  bool any() const { return n_experts > 0; }
};

class MoeFfn {
 public:
  // `layer` = weights of layers.<i>; `hidden` = model width.
  static MoeFfn load(const MoeParams& p, const Weights& layer, int64_t hidden, cpu::Act act);

  // x [N, H] -> y [N, H]. The router logits [N, E] and the selection of this call
  // stay readable until the next call.
  void forward(const float* x, int64_t rows, float* y);
  // Reference path: the same routing, each token's experts run one token at a time.
  void forward_naive(const float* x, int64_t rows, float* y);
  // One expert on `rows` tokens: y [rows, H] = expert_e(x) (unweighted).
  void expert_forward(int64_t e, const float* x, int64_t rows, float* y);
  // y += sigmoid(shared_expert_gate(x)) * shared_expert(x); no-op without a shared expert.
  void add_shared(const float* x, int64_t rows, float* y);
  bool has_shared() const { return shared_inter_ > 0; }

  int64_t n_experts() const { return n_experts_; }
  int64_t top_k() const { return top_k_; }
  void set_top_k(int64_t k);  // 1..n_experts; errors otherwise
  bool norm_topk() const { return norm_topk_; }

  const std::vector<float>& router_logits() const { return logits_; }  // [last_rows, E]
  const std::vector<int32_t>& selected() const { return sel_; }       // [last_rows, k]
  const std::vector<float>& weights() const { return wsel_; }         // [last_rows, k]
  int64_t last_rows() const { return last_rows_; }

  // Every forward() reports its selection to `r` (may be null) as layer `layer`.
  void set_recorder(MoeRecorder* r, int64_t layer) {
    recorder_ = r;
    layer_ = layer;
  }

 private:
  void route(const float* x, int64_t rows);
  // down(act(gate(x)) * up(x)) for `rows` tokens into y; g/u are [rows, I] scratch.
  void mlp(const Linear& gate, const Linear& up, const Linear& down, const float* x, int64_t rows, float* y);

  int64_t hidden_ = 0, n_experts_ = 0, top_k_ = 0, inter_ = 0, shared_inter_ = 0;
  bool norm_topk_ = false;
  cpu::Act act_ = cpu::Act::Silu;
  Linear router_;
  std::vector<Linear> gate_, up_, down_;  // per expert: gate/up [I, H], down [H, I]
  Linear shared_gate_proj_, shared_up_, shared_down_, shared_gate_;

  MoeRecorder* recorder_ = nullptr;
  int64_t layer_ = 0;
  // Work buffers, grown on demand.
  int64_t last_rows_ = 0;
  std::vector<float> logits_, probs_, wsel_, xin_, g_, u_, out_, gate_val_;
  std::vector<int32_t> sel_;
  std::vector<int64_t> tok_;  // tokens of one expert (grouped path)
  std::vector<float> tokw_;   // their routing weights
};

}  // namespace ia
