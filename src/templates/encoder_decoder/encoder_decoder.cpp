// Encoder-decoder architecture template: registration, tasks and the template
// parameters reported by `inspect`.
#include <nlohmann/json.hpp>

#include "templates/encoder_decoder/encdec_model.h"
#include "templates/family.h"

namespace ia {

namespace {

const char* head_name(EncDecHead h) {
  switch (h) {
    case EncDecHead::ConditionalGeneration: return "conditional-generation";
    case EncDecHead::BaseModel: return "base-model";
    case EncDecHead::EncoderOnly: return "encoder-only";
  }
  return "?";
}

}  // namespace

std::vector<std::string> EncDecModel::tasks() const {
  if (p_.head == EncDecHead::ConditionalGeneration) return {"text2text-generation", "summarization", "translation"};
  return {"feature-extraction"};
}

nlohmann::json EncDecModel::describe() const {
  const EncDecParams& p = p_;
  nlohmann::json j;
  j["template"] = "encoder-decoder";
  j["model_type"] = p.model_type;
  j["architecture"] = p.architecture;
  j["head"] = head_name(p.head);
  j["vocab_size"] = p.vocab;
  j["d_model"] = p.d_model;
  auto stack = [&](const EncDecStack& s, bool decoder) {
    nlohmann::json r = {{"layers", s.layers}, {"heads", s.heads}, {"head_dim", s.head_dim}, {"ffn_dim", s.ffn_dim}};
    r["ffn_per_layer"] = ffn_describe(decoder);
    return r;
  };
  j["encoder"] = stack(p.enc, false);
  if (dec_) j["decoder"] = stack(p.dec, true);
  j["norm"] = {{"kind", p.norm == EncDecNorm::RMSNorm ? "rms (T5LayerNorm)" : "layernorm"},
               {"eps", p.norm_eps},
               {"placement", p.pre_norm ? "pre-norm" : "post-norm"},
               {"final_norm", p.final_norm},
               {"embedding_norm", p.embed_norm}};
  if (p.pos == EncDecPos::RelativeBuckets)
    j["positions"] = {{"kind", "relative-buckets"}, {"num_buckets", p.num_buckets}, {"max_distance", p.max_distance}};
  else
    j["positions"] = {{"kind", "learned"}, {"offset", p.pos_offset}, {"max_positions", p.max_positions}};
  j["attention"] = {{"scale", p.scale_queries ? "head_dim**-0.5" : "none"}, {"bias", p.attn_bias}};
  j["ffn"] = {{"gated", p.gated_ffn}, {"activation", p.act_name}, {"bias", p.ffn_bias}};
  j["embedding"] = {{"scale", p.embed_scale}};
  j["lm_head"] = {{"tied", p.tie_embeddings}, {"scale", p.lm_head_scale}, {"final_logits_bias", p.final_logits_bias}};
  nlohmann::json g;
  g["eos_token_ids"] = gen_.eos_ids;
  if (gen_.decoder_start_id) g["decoder_start_token_id"] = *gen_.decoder_start_id;
  if (gen_.forced_bos_id) g["forced_bos_token_id"] = *gen_.forced_bos_id;
  if (!gen_.forced_eos_ids.empty()) g["forced_eos_token_id"] = gen_.forced_eos_ids;
  if (gen_.no_repeat_ngram_size > 0) g["no_repeat_ngram_size"] = gen_.no_repeat_ngram_size;
  if (gen_.min_length > 0) g["min_length"] = gen_.min_length;
  j["generation"] = g;
  j["caches"] = "self-attention KV cache [batch, capacity, heads*head_dim] per layer; cross-attention K/V projected once";
  return j;
}

FamilyTemplate encoder_decoder_template() {
  return {Family::EncoderDecoder, encdec_model_types(),
          [](const ModelContext& ctx) -> std::unique_ptr<Model> { return std::make_unique<EncDecModel>(ctx); }};
}

}  // namespace ia
