// State-space architecture template: registration and the template parameters
// reported by `inspect`.
#include <cmath>
#include <nlohmann/json.hpp>

#include "templates/family.h"
#include "templates/state_space/state_space_model.h"

namespace ia {

nlohmann::json StateSpaceModel::describe() const {
  const SsmParams& p = p_;
  nlohmann::json j;
  j["template"] = "state-space";
  j["model_type"] = p.model_type;
  j["mixer"] = ssm_kind_name(p.kind);
  j["vocab_size"] = p.vocab;
  j["hidden_size"] = p.hidden;
  j["num_layers"] = p.n_layers;
  j["lm_head"] = {{"present", lm_head_.defined()}, {"tied", p.tie_embeddings}};
  j["eos_token_ids"] = p.eos_ids;
  if (p.kind == SsmKind::Rwkv) {
    j["norm"] = {{"kind", "layer_norm"}, {"eps", p.eps}, {"pre_ln_on_layer_0", true}};
    j["attention_hidden_size"] = p.attention_hidden;
    j["intermediate_size"] = p.rwkv_intermediate;
    j["rescale_every"] = p.rescale_every;
    j["time_mixing"] = "wkv (running-max form), token shift with time_mix_k/v/r";
    j["channel_mixing"] = "squared relu, token shift with time_mix_k/r";
  } else {
    j["norm"] = {{"kind", "rms_norm"}, {"eps", p.eps}};
    j["activation"] = p.act_name;
    j["intermediate_size"] = p.intermediate;
    j["state_size"] = p.state_size;
    j["conv_kernel"] = p.conv_kernel;
    j["use_bias"] = p.use_bias;
    j["use_conv_bias"] = p.use_conv_bias;
    j["residual_in_fp32"] = p.residual_in_fp32;
    if (p.kind == SsmKind::Mamba) {
      j["time_step_rank"] = p.time_step_rank;
    } else {
      j["num_heads"] = p.n_heads;
      j["head_dim"] = p.head_dim;
      j["n_groups"] = p.n_groups;
      j["chunk_size"] = p.chunk_size;
      j["time_step_min"] = p.time_step_min;
      j["time_step_limit"] = {p.time_step_limit[0], std::isfinite(p.time_step_limit[1]) && p.time_step_limit[1] < 1e300
                                                        ? nlohmann::json(p.time_step_limit[1])
                                                        : nlohmann::json("inf")};
      j["gated_norm"] = {{"gate", "before norm (as 4.44)"}, {"norm_before_gate_config", p.norm_before_gate},
                         {"group", "whole intermediate (as 4.44)"}};
      j["ssd"] = "recurrent form (exact across any chunking)";
    }
  }
  nlohmann::json slots = nlohmann::json::array();
  for (const auto& s : state_.slots()) slots.push_back({{"name", s.name}, {"row_shape", s.row_shape}});
  j["recurrent_state"] = {{"slots_per_layer", slots},
                          {"bytes_per_sequence", state_.bytes_per_row()},
                          {"grows_with_length", false}};
  return j;
}

FamilyTemplate state_space_template() {
  return {Family::StateSpace, ssm_model_types(),
          [](const ModelContext& ctx) -> std::unique_ptr<Model> { return std::make_unique<StateSpaceModel>(ctx); }};
}

}  // namespace ia
