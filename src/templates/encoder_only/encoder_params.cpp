// Reads an encoder-only model's config.json into EncoderParams, with the
// defaults each transformers 4.44.2 configuration class uses for missing keys.
#include "templates/encoder_only/encoder_params.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "templates/model.h"

namespace ia {

namespace {

// Constructor defaults of the configuration classes (only the ones that differ by type matter).
struct TypeDefaults {
  int64_t vocab, hidden, layers, heads, intermediate, max_pos, type_vocab, pad;
  int64_t embedding;  // 0: same as hidden
  double eps;
  const char* act;
};

TypeDefaults defaults_for(const std::string& t) {
  if (t == "roberta") return {50265, 768, 12, 12, 3072, 512, 2, 1, 0, 1e-12, "gelu"};
  if (t == "xlm-roberta") return {30522, 768, 12, 12, 3072, 512, 2, 1, 0, 1e-12, "gelu"};
  if (t == "albert") return {30000, 4096, 12, 64, 16384, 512, 2, 0, 128, 1e-12, "gelu_new"};
  if (t == "electra") return {30522, 256, 12, 4, 1024, 512, 2, 0, 128, 1e-12, "gelu"};
  if (t == "distilbert") return {30522, 768, 6, 12, 3072, 512, 0, 0, 0, 1e-12, "gelu"};
  if (t == "deberta-v2") return {128100, 1536, 24, 24, 6144, 512, 0, 0, 0, 1e-7, "gelu"};
  return {30522, 768, 12, 12, 3072, 512, 2, 0, 0, 1e-12, "gelu"};  // bert, dpr
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// "p2c|c2p" (legacy string) or ["p2c", "c2p"] or null.
std::vector<std::string> string_list(const HFConfig& c, const std::string& key) {
  std::vector<std::string> out;
  if (!c.has(key)) return out;
  const auto& v = c.raw()[key];
  if (v.is_string()) {
    std::string s = lower(v.get<std::string>());
    size_t start = 0;
    while (start <= s.size()) {
      size_t bar = s.find('|', start);
      out.push_back(trim(s.substr(start, bar == std::string::npos ? std::string::npos : bar - start)));
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
  } else if (v.is_array()) {
    for (const auto& e : v) {
      IA_CHECK(e.is_string(), c.label(), ": field '", key, "' must be a list of strings");
      out.push_back(trim(lower(e.get<std::string>())));
    }
  } else {
    fail(c.label(), ": field '", key, "' must be a string or a list of strings");
  }
  return out;
}

bool contains(const std::vector<std::string>& v, const char* s) { return std::find(v.begin(), v.end(), s) != v.end(); }

void read_deberta(const HFConfig& c, EncoderParams& p) {
  DebertaOptions& d = p.deberta;
  d.relative_attention = c.get_bool("relative_attention", false);
  d.max_relative_positions = c.get_int("max_relative_positions", -1);
  if (d.max_relative_positions < 1) d.max_relative_positions = p.max_position_embeddings;
  d.position_buckets = c.get_int("position_buckets", -1);
  d.att_span = d.position_buckets > 0 ? d.position_buckets : d.max_relative_positions;
  // DeBERTa-v2 only asks whether "c2p" / "p2c" are listed; other entries (v1's "p2p") are ignored.
  auto pat = string_list(c, "pos_att_type");
  d.c2p = contains(pat, "c2p");
  d.p2c = contains(pat, "p2c");
  d.share_att_key = c.get_bool("share_att_key", false);
  auto norm = string_list(c, "norm_rel_ebd");
  d.norm_rel_ebd = contains(norm, "layer_norm");
  d.position_biased_input = c.get_bool("position_biased_input", true);
  d.conv_kernel_size = c.get_int("conv_kernel_size", 0);
  d.conv_groups = c.get_int("conv_groups", 1);
  d.conv_act = c.get_string("conv_act", "tanh");
  d.pooler_hidden_act = c.get_string("pooler_hidden_act", "gelu");
  d.pooler_hidden_size = c.get_int("pooler_hidden_size", p.hidden_size);
  IA_CHECK(d.conv_kernel_size <= 0 || (d.conv_groups > 0 && p.hidden_size % d.conv_groups == 0), c.label(),
           ": field 'conv_groups' (", d.conv_groups, ") must divide hidden_size (", p.hidden_size, ")");
  if (d.conv_kernel_size > 0) cpu::act_from_name(d.conv_act, c.label() + " field 'conv_act'");
  cpu::act_from_name(d.pooler_hidden_act, c.label() + " field 'pooler_hidden_act'");
  p.positions = d.position_biased_input ? PositionKind::Absolute : PositionKind::None;
}

}  // namespace

const char* position_kind_name(PositionKind p) {
  switch (p) {
    case PositionKind::Absolute: return "absolute";
    case PositionKind::RelativeKey: return "relative_key";
    case PositionKind::RelativeKeyQuery: return "relative_key_query";
    case PositionKind::None: return "none";
  }
  return "?";
}

EncoderParams EncoderParams::from_context(const ModelContext& ctx) {
  const HFConfig& c = ctx.config;
  EncoderParams p;
  p.model_type = ctx.model_type;
  p.architecture = ctx.architecture;
  p.config_label = c.label();
  const TypeDefaults d = defaults_for(ctx.model_type);
  const bool distil = ctx.model_type == "distilbert";

  if (distil) {
    // DistilBertConfig's own names (attribute_map aliases hidden_size -> dim etc.).
    p.naming = EncoderNaming::DistilBert;
    p.hidden_size = c.get_int_any({"dim", "hidden_size"}, d.hidden);
    p.num_layers = c.get_int_any({"n_layers", "num_hidden_layers"}, d.layers);
    p.num_heads = c.get_int_any({"n_heads", "num_attention_heads"}, d.heads);
    p.intermediate_size = c.get_int("hidden_dim", 4 * 768);
    p.hidden_act = c.get_string("activation", "gelu");
    p.layer_norm_eps = 1e-12f;  // hard-coded in modeling_distilbert.py
    p.type_vocab_size = 0;
    p.sinusoidal_positions = c.get_bool("sinusoidal_pos_embds", false);
  } else {
    p.naming = ctx.model_type == "albert"       ? EncoderNaming::Albert
               : ctx.model_type == "deberta-v2" ? EncoderNaming::DebertaV2
                                                 : EncoderNaming::Bert;
    p.hidden_size = c.get_int("hidden_size", d.hidden);
    p.num_layers = c.get_int("num_hidden_layers", d.layers);
    p.num_heads = c.get_int("num_attention_heads", d.heads);
    p.intermediate_size = c.get_int("intermediate_size", d.intermediate);
    p.hidden_act = c.get_string("hidden_act", d.act);
    p.layer_norm_eps = float(c.get_float("layer_norm_eps", d.eps));
    p.type_vocab_size = c.get_int("type_vocab_size", d.type_vocab);
  }
  p.vocab_size = c.get_int("vocab_size", d.vocab);
  p.max_position_embeddings = c.get_int("max_position_embeddings", d.max_pos);
  p.pad_token_id = c.get_int("pad_token_id", d.pad);
  p.embedding_size = d.embedding ? c.get_int("embedding_size", d.embedding) : c.get_int("embedding_size", p.hidden_size);
  if (ctx.model_type == "bert" || ctx.model_type == "dpr" || ctx.model_type == "roberta" ||
      ctx.model_type == "xlm-roberta" || distil)
    p.embedding_size = p.hidden_size;  // these embeddings are built with hidden_size whatever the config says
  p.act = cpu::act_from_name(p.hidden_act, c.label() + (distil ? " field 'activation'" : " field 'hidden_act'"));

  IA_CHECK(p.hidden_size > 0 && p.num_heads > 0 && p.num_layers >= 0 && p.vocab_size > 0 && p.intermediate_size > 0,
           c.label(), ": hidden_size, num_attention_heads, vocab_size and intermediate_size must be positive");
  IA_CHECK(p.hidden_size % p.num_heads == 0, c.label(), ": hidden_size (", p.hidden_size,
           ") is not a multiple of num_attention_heads (", p.num_heads, ")");
  p.head_dim = p.hidden_size / p.num_heads;

  if (p.naming == EncoderNaming::DebertaV2) {
    p.head_dim = c.get_int("attention_head_size", p.head_dim);
    read_deberta(c, p);
  } else if (!distil) {
    // An explicit null is kept by transformers (getattr finds None) and means "no positions".
    const bool null_pe = c.raw().contains("position_embedding_type") && c.raw()["position_embedding_type"].is_null();
    std::string pe = null_pe ? "none" : c.get_string("position_embedding_type", "absolute");
    // transformers adds absolute embeddings only for "absolute" and relative scores only for the two
    // relative kinds; any other value leaves the model without position information.
    p.positions = pe == "absolute"             ? PositionKind::Absolute
                  : pe == "relative_key"       ? PositionKind::RelativeKey
                  : pe == "relative_key_query" ? PositionKind::RelativeKeyQuery
                                               : PositionKind::None;
  }
  p.padding_idx_positions = ctx.model_type == "roberta" || ctx.model_type == "xlm-roberta";
  if (p.naming == EncoderNaming::Albert) {
    p.num_hidden_groups = c.get_int("num_hidden_groups", 1);
    p.inner_group_num = c.get_int("inner_group_num", 1);
    IA_CHECK(p.num_hidden_groups > 0 && p.inner_group_num > 0, c.label(),
             ": num_hidden_groups and inner_group_num must be positive");
  }
  p.is_decoder = p.naming == EncoderNaming::Bert && c.get_bool("is_decoder", false);
  p.tie_word_embeddings = c.get_bool("tie_word_embeddings", true);
  if (c.has("id2label") && c.raw()["id2label"].is_object())
    p.num_labels = int64_t(c.raw()["id2label"].size());
  else
    p.num_labels = c.get_int("num_labels", 2);
  p.projection_dim = c.get_int("projection_dim", 0);
  return p;
}

nlohmann::json EncoderParams::describe() const {
  nlohmann::json j;
  j["family"] = "encoder-only";
  j["model_type"] = model_type;
  j["architecture"] = architecture;
  const char* naming_s = naming == EncoderNaming::Albert       ? "albert"
                         : naming == EncoderNaming::DistilBert ? "distilbert"
                         : naming == EncoderNaming::DebertaV2  ? "deberta-v2"
                                                               : "bert";
  j["weight_naming"] = naming_s;
  char eps[32];
  std::snprintf(eps, sizeof eps, "%g", double(layer_norm_eps));  // the config's decimal, not the float's expansion
  j["norm"] = {{"kind", "layer_norm"}, {"placement", "post"}, {"eps", std::stod(eps)}, {"embedding_norm", true}};
  j["sizes"] = {{"vocab", vocab_size},       {"hidden", hidden_size},   {"embedding", embedding_size},
                {"layers", num_layers},      {"heads", num_heads},      {"head_dim", head_dim},
                {"intermediate", intermediate_size}, {"max_positions", max_position_embeddings},
                {"type_vocab", type_vocab_size}};
  nlohmann::json pos;
  pos["kind"] = position_kind_name(positions);
  if (padding_idx_positions) pos["ids"] = "padding_idx + cumsum(input_ids != pad_token_id)";
  if (sinusoidal_positions) pos["sinusoidal"] = true;
  if (naming == EncoderNaming::DebertaV2 && deberta.relative_attention) pos["relative"] = "disentangled (c2p/p2c)";
  j["positions"] = pos;
  nlohmann::json att;
  att["kind"] = naming == EncoderNaming::DebertaV2 && deberta.relative_attention ? "disentangled" : "mha";
  att["causal"] = is_decoder;
  if (naming == EncoderNaming::DebertaV2) {
    std::vector<std::string> types;
    if (deberta.c2p) types.push_back("c2p");
    if (deberta.p2c) types.push_back("p2c");
    att["pos_att_type"] = types;
    att["position_buckets"] = deberta.position_buckets;
    att["max_relative_positions"] = deberta.max_relative_positions;
    att["share_att_key"] = deberta.share_att_key;
    att["norm_rel_ebd"] = deberta.norm_rel_ebd ? "layer_norm" : "none";
    att["conv_kernel_size"] = deberta.conv_kernel_size;
  }
  j["attention"] = att;
  j["mlp"] = {{"kind", "dense"}, {"activation", hidden_act}};
  j["biases"] = true;
  j["tied_embeddings"] = tie_word_embeddings;
  if (naming == EncoderNaming::Albert)
    j["layer_sharing"] = {{"num_hidden_groups", num_hidden_groups}, {"inner_group_num", inner_group_num}};
  if (embedding_size != hidden_size) j["embedding_projection"] = {{"from", embedding_size}, {"to", hidden_size}};
  return j;
}

}  // namespace ia
