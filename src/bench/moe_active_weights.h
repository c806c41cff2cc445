// Weights a mixture-of-experts decode step actually reads: every non-expert
// tensor plus top_k / num_experts of the routed experts' tensors (a token only
// runs its selected experts). This is the figure decode cost should follow,
// and the roofline of a MoE model is computed from it.
#pragma once
#include <cstdint>

namespace ia {
class Checkpoint;
class HFConfig;
}  // namespace ia

namespace ia::bench {

struct MoeActiveWeights {
  bool is_moe = false;
  int64_t experts = 0, top_k = 0;
  int64_t expert_parameters = 0, expert_bytes = 0;  // all routed experts' tensors
  int64_t active_parameters = 0;                    // parameters one token uses (all tensors but unrouted experts)
};

// `total_parameters` = every tensor in the checkpoint. Non-MoE configs -> is_moe false.
MoeActiveWeights moe_active_weights(const Checkpoint& ck, const HFConfig& config, int64_t total_parameters);

}  // namespace ia::bench
