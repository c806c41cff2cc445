// One parameter row per encoder-decoder model type, read from config.json with
// the defaults of the transformers 4.44.2 config class. A new BART-like model
// type (mbart, marian, pegasus) adds a function here, not a forward pass.
#include <cmath>
#include <functional>
#include <map>

#include "core/error.h"
#include "templates/encoder_decoder/encdec_params.h"
#include "templates/model.h"

namespace ia {

namespace {

int64_t positive(const HFConfig& c, const char* key, int64_t def) {
  int64_t v = c.get_int(key, def);
  IA_CHECK(v > 0, c.label(), ": ", key, " must be positive, got ", v);
  return v;
}

void set_act(const HFConfig& c, EncDecParams& p, const std::string& name) {
  p.act_name = name;
  p.act = cpu::act_from_name(name, c.label());
}

EncDecHead head_of(const std::string& arch, const std::string& prefix) {
  if (arch == prefix + "Model") return EncDecHead::BaseModel;
  if (arch == prefix + "EncoderModel") return EncDecHead::EncoderOnly;
  return EncDecHead::ConditionalGeneration;
}

void check_architecture(const HFConfig& c, const std::string& arch, const std::vector<std::string>& known) {
  if (arch.empty()) return;  // no architectures list: the generation head, as AutoModelForSeq2SeqLM
  for (const auto& k : known)
    if (arch == k) return;
  std::string list;
  for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
  throw Unsupported(cat(c.label(), ": architecture '", arch, "' is not implemented (supported: ", list, ")"));
}

void generation_ids(const HFConfig& c, EncDecParams& p, int64_t pad_def, int64_t eos_def,
                    std::optional<int64_t> start_def) {
  p.pad_id = c.has("pad_token_id") ? c.get_int("pad_token_id") : pad_def;
  p.eos_ids = c.raw().contains("eos_token_id") ? c.get_int_list("eos_token_id") : std::vector<int64_t>{eos_def};
  if (c.has("decoder_start_token_id")) p.decoder_start_id = c.get_int("decoder_start_token_id");
  else if (start_def) p.decoder_start_id = *start_def;
}

}  // namespace

void set_bart_weight_names(EncDecParams& p) {
  p.base_candidates = {"model", ""};
  p.enc_name = "encoder";
  p.dec_name = "decoder";
  p.layers = "layers";
  p.self_attn = "self_attn";
  p.cross_attn = "encoder_attn";
  p.q = "q_proj";
  p.k = "k_proj";
  p.v = "v_proj";
  p.o = "out_proj";
  p.self_norm = "self_attn_layer_norm";
  p.cross_norm = "encoder_attn_layer_norm";
  p.enc_ffn_norm = "final_layer_norm";
  p.dec_ffn_norm = "final_layer_norm";
  p.enc_ffn = "";
  p.dec_ffn = "";
  p.ffn_in = "fc1";
  p.ffn_out = "fc2";
  p.pos_embed = "embed_positions";
}

EncDecParams t5_params_from_config(const ModelContext& ctx) {
  const HFConfig& c = ctx.config;
  EncDecParams p;
  p.model_type = ctx.model_type;
  p.architecture = ctx.architecture;
  p.head = head_of(ctx.architecture, "T5");
  p.vocab = positive(c, "vocab_size", 32128);
  p.d_model = positive(c, "d_model", 512);
  const int64_t d_kv = positive(c, "d_kv", 64), d_ff = positive(c, "d_ff", 2048);
  const int64_t heads = positive(c, "num_heads", 8);
  const int64_t n_enc = positive(c, "num_layers", 6);
  const int64_t n_dec = c.has("num_decoder_layers") ? positive(c, "num_decoder_layers", n_enc) : n_enc;
  p.enc = {n_enc, heads, d_kv, d_ff};
  p.dec = {n_dec, heads, d_kv, d_ff};
  p.norm = EncDecNorm::RMSNorm;
  p.norm_eps = float(c.get_float("layer_norm_epsilon", 1e-6));
  p.pre_norm = true;
  p.final_norm = true;
  p.pos = EncDecPos::RelativeBuckets;
  p.num_buckets = positive(c, "relative_attention_num_buckets", 32);
  p.max_distance = positive(c, "relative_attention_max_distance", 128);
  IA_CHECK(p.num_buckets >= 4, c.label(), ": relative_attention_num_buckets must be at least 4, got ", p.num_buckets);

  // T5Config: feed_forward_proj "{act}" or "gated-{act}" decides dense_act_fn and
  // is_gated_act; explicit dense_act_fn / is_gated_act keys in config.json are set
  // afterwards (PretrainedConfig kwargs) and win.
  const std::string ffp = c.get_string("feed_forward_proj", "relu");
  std::vector<std::string> parts;
  for (size_t s = 0, e; s <= ffp.size(); s = e + 1) {
    e = ffp.find('-', s);
    if (e == std::string::npos) e = ffp.size();
    parts.push_back(ffp.substr(s, e - s));
  }
  IA_CHECK(!((parts.size() > 1 && parts[0] != "gated") || parts.size() > 2), c.label(), ": feed_forward_proj '", ffp,
           "' is not a valid activation: use '{ACT_FN}' or 'gated-{ACT_FN}', e.g. 'relu' or 'gated-gelu'");
  std::string act = parts.back();
  bool gated = parts[0] == "gated";
  if (ffp == "gated-gelu") act = "gelu_new";
  if (c.has("dense_act_fn")) act = c.get_string("dense_act_fn");
  if (c.has("is_gated_act")) gated = c.get_bool("is_gated_act");
  set_act(c, p, act);
  p.gated_ffn = gated;

  p.tie_embeddings = c.get_bool("tie_word_embeddings", true);
  p.lm_head_scale = p.tie_embeddings ? float(std::pow(double(p.d_model), -0.5)) : 1.f;
  generation_ids(c, p, 0, 1, std::nullopt);
  p.generation_defaults = {{"pad_token_id", 0}, {"eos_token_id", 1}};

  p.base_candidates = {""};
  p.shared = "shared";
  p.enc_name = "encoder";
  p.dec_name = "decoder";
  p.layers = "block";
  p.self_attn = "layer.0.SelfAttention";
  p.cross_attn = "layer.1.EncDecAttention";
  p.q = "q";
  p.k = "k";
  p.v = "v";
  p.o = "o";
  p.self_norm = "layer.0.layer_norm";
  p.cross_norm = "layer.1.layer_norm";
  p.enc_ffn_norm = "layer.1.layer_norm";
  p.dec_ffn_norm = "layer.2.layer_norm";
  p.enc_ffn = "layer.1.DenseReluDense";
  p.dec_ffn = "layer.2.DenseReluDense";
  p.ffn_in = "wi";
  p.ffn_gate = "wi_0";
  p.ffn_up = "wi_1";
  p.ffn_out = "wo";
  p.rel_bias = "relative_attention_bias";
  p.final_norm_name = "final_layer_norm";
  return p;
}

namespace {

EncDecParams t5_params(const ModelContext& ctx) {
  check_architecture(ctx.config, ctx.architecture, {"T5ForConditionalGeneration", "T5Model", "T5EncoderModel"});
  return t5_params_from_config(ctx);
}

EncDecParams bart_params(const ModelContext& ctx) {
  const HFConfig& c = ctx.config;
  EncDecParams p;
  p.model_type = ctx.model_type;
  p.architecture = ctx.architecture;
  check_architecture(c, ctx.architecture, {"BartForConditionalGeneration", "BartModel"});
  p.head = head_of(ctx.architecture, "Bart");
  p.vocab = positive(c, "vocab_size", 50265);
  p.d_model = positive(c, "d_model", 1024);
  auto stack = [&](const char* layers, const char* heads, const char* ffn) {
    EncDecStack s;
    s.layers = positive(c, layers, 12);
    s.heads = positive(c, heads, 16);
    s.ffn_dim = positive(c, ffn, 4096);
    IA_CHECK(p.d_model % s.heads == 0, c.label(), ": d_model ", p.d_model, " is not divisible by ", heads, " (", s.heads,
             ")");
    s.head_dim = p.d_model / s.heads;
    return s;
  };
  p.enc = stack("encoder_layers", "encoder_attention_heads", "encoder_ffn_dim");
  p.dec = stack("decoder_layers", "decoder_attention_heads", "decoder_ffn_dim");
  p.norm = EncDecNorm::LayerNorm;
  p.norm_eps = 1e-5f;  // nn.LayerNorm default; BART has no config field for it
  p.pre_norm = false;
  p.final_norm = false;
  p.embed_norm = true;
  p.attn_bias = true;
  p.ffn_bias = true;
  p.scale_queries = true;
  p.gated_ffn = false;
  set_act(c, p, c.get_string("activation_function", "gelu"));
  p.pos = EncDecPos::Learned;
  p.pos_offset = 2;
  p.max_positions = positive(c, "max_position_embeddings", 1024);
  p.embed_scale = c.get_bool("scale_embedding", false) ? float(std::sqrt(double(p.d_model))) : 1.f;
  p.tie_embeddings = c.get_bool("tie_word_embeddings", true);
  p.final_logits_bias = true;
  generation_ids(c, p, 1, 2, int64_t(2));
  p.generation_defaults = {{"pad_token_id", 1}, {"bos_token_id", 0}, {"eos_token_id", 2},
                           {"decoder_start_token_id", 2}, {"forced_eos_token_id", 2}};
  // BartConfig maps the legacy force_bos_token_to_be_generated flag to forced_bos_token_id = bos.
  if (c.get_bool("force_bos_token_to_be_generated", false) && !c.has("forced_bos_token_id"))
    p.generation_defaults.push_back({"forced_bos_token_id", c.get_int("bos_token_id", 0)});

  p.shared = "shared";
  set_bart_weight_names(p);
  p.embed_norm_name = "layernorm_embedding";
  return p;
}

const std::map<std::string, std::function<EncDecParams(const ModelContext&)>>& rows() {
  static const std::map<std::string, std::function<EncDecParams(const ModelContext&)>> r = {
      {"t5", t5_params},
      {"bart", bart_params},
  };
  return r;
}

}  // namespace

EncDecParams encdec_params_from_config(const ModelContext& ctx) {
  auto it = rows().find(ctx.model_type);
  if (it == rows().end())
    throw Unsupported(cat(ctx.config.label(), ": model_type '", ctx.model_type,
                          "' is not an encoder-decoder type this template knows"));
  return it->second(ctx);
}

const std::vector<std::string>& encdec_model_types() {
  static const std::vector<std::string> v = [] {
    std::vector<std::string> r;
    for (const auto& [k, _] : rows()) r.push_back(k);
    return r;
  }();
  return v;
}

}  // namespace ia
