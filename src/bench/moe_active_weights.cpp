#include "bench/moe_active_weights.h"

#include "formats/checkpoint.h"
#include "formats/hf_config.h"

namespace ia::bench {

MoeActiveWeights moe_active_weights(const Checkpoint& ck, const HFConfig& c, int64_t total_parameters) {
  MoeActiveWeights m;
  m.experts = c.get_int_any({"num_local_experts", "num_experts"}, 0);
  m.top_k = c.get_int("num_experts_per_tok", c.get_string("model_type", "") == "switch_transformers" ? 1 : 0);
  if (m.experts <= 0 || m.top_k <= 0) return m;
  m.is_moe = true;
  for (const auto& n : ck.names()) {
    // Routed experts only: ".experts." tensors (mixtral block_sparse_moe.experts.*, qwen2_moe
    // mlp.experts.*, switch mlp.experts.*); a shared expert runs for every token.
    if (n.find(".experts.") == std::string::npos) continue;
    const TensorInfo& ti = ck.info(n);
    const int64_t numel = shape_numel(ti.shape);
    m.expert_parameters += numel;
    m.expert_bytes += numel * int64_t(dtype_size(ti.dtype));
  }
  m.active_parameters = total_parameters - m.expert_parameters + m.expert_parameters * m.top_k / m.experts;
  return m;
}

}  // namespace ia::bench
