// Decoder-only architecture template: registration and the template parameters
// reported by `inspect`.
#include <nlohmann/json.hpp>

#include "templates/decoder_only/decoder_model.h"
#include "templates/family.h"

namespace ia {

nlohmann::json DecoderModel::describe() const {
  const DecoderParams& p = p_;
  nlohmann::json j;
  j["template"] = "decoder-only";
  j["model_type"] = p.model_type;
  j["vocab_size"] = p.vocab;
  j["hidden_size"] = p.hidden;
  j["num_layers"] = p.n_layers;
  j["num_heads"] = p.n_heads;
  j["num_kv_heads"] = p.n_kv_heads;
  j["head_dim"] = p.head_dim;
  j["intermediate_size"] = p.intermediate;
  j["norm"] = {{"kind", norm_kind_name(p.norm)}, {"eps", p.norm_eps}, {"affine", p.norm_affine}};
  nlohmann::json pos = {{"kind", pos_kind_name(p.pos)}};
  if (p.pos == PosKind::Learned) pos["offset"] = p.pos_offset;
  if (p.pos == PosKind::Rotary) {
    const char* rule = p.rope.rule == RopeRule::Modern ? "rope_utils" : p.rope.rule == RopeRule::Legacy ? "legacy_table" : "phi3_longrope";
    pos["rope"] = {{"type", rope_type_name(p.rope.type)}, {"rule", rule},        {"dim", p.rope.dim},
                   {"base", p.rope.base},                 {"factor", p.rope.factor}, {"interleaved", p.rope.interleaved}};
  }
  j["positions"] = pos;
  std::vector<int64_t> windows(p.window.begin(), p.window.end());
  j["attention"] = {{"qkv_layout", qkv_layout_name(p.qkv_layout)},
                    {"scale", p.attn_scale},
                    {"sliding_window_per_layer", windows},
                    {"logit_softcap", p.attn_softcap},
                    {"qk_layernorm", !p.q_norm.empty()},
                    {"variant", p.n_kv_heads == p.n_heads ? "MHA" : p.n_kv_heads == 1 ? "MQA" : "GQA"}};
  j["mlp"] = {{"kind", p.mlp == MlpKind::Gated ? "gated" : "plain"}, {"activation", p.act_name}};
  j["residual"] = residual_kind_name(p.residual);
  if (p.residual_from_normed) j["residual_from_normed"] = true;
  j["embedding"] = {{"scale", p.embed_scale}, {"embed_dim", p.embed_dim}, {"layernorm", !p.embed_norm.empty()},
                    {"project_in_out", !p.project_in.empty()}};
  j["lm_head"] = {{"tied", p.tie_embeddings}, {"final_logit_softcap", p.final_softcap}};
  j["eos_token_ids"] = p.eos_ids;
  j["kv_cache"] = "preallocated per layer [batch, capacity, kv_heads * head_dim]";
  return j;
}

FamilyTemplate decoder_only_template() {
  return {Family::DecoderOnly, decoder_model_types(),
          [](const ModelContext& ctx) -> std::unique_ptr<Model> { return std::make_unique<DecoderModel>(ctx); }};
}

}  // namespace ia
