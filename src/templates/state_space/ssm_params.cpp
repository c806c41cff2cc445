#include "templates/state_space/ssm_params.h"

#include <cmath>

#include "core/error.h"

namespace ia {

const char* ssm_kind_name(SsmKind k) {
  switch (k) {
    case SsmKind::Mamba: return "selective_scan";
    case SsmKind::Mamba2: return "ssd";
    case SsmKind::Rwkv: return "rwkv4";
  }
  return "?";
}

std::vector<std::string> ssm_model_types() { return {"mamba", "mamba2", "rwkv"}; }

namespace {

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

int64_t positive(const HFConfig& cfg, const char* key, int64_t v) {
  IA_CHECK(v > 0, cfg.label(), ": field '", key, "' must be positive, got ", v);
  return v;
}

// time_step_rank: an integer or "auto" (= ceil(hidden_size / 16)).
int64_t time_step_rank(const HFConfig& cfg, int64_t hidden) {
  const auto& j = cfg.raw();
  if (!j.contains("time_step_rank") || j["time_step_rank"].is_null()) return (hidden + 15) / 16;
  const auto& v = j["time_step_rank"];
  if (v.is_string()) {
    IA_CHECK(v.get<std::string>() == "auto", cfg.label(), ": field 'time_step_rank' must be an integer or \"auto\", got \"",
             v.get<std::string>(), "\"");
    return (hidden + 15) / 16;
  }
  IA_CHECK(v.is_number(), cfg.label(), ": field 'time_step_rank' must be an integer or \"auto\"");
  return positive(cfg, "time_step_rank", int64_t(v.get<double>()));
}

}  // namespace

SsmParams read_ssm_params(const HFConfig& cfg, const HFConfig* gen, const std::string& model_type) {
  SsmParams p;
  p.model_type = model_type;
  p.config_hash = fnv1a(cfg.raw().dump());
  p.eps = cfg.get_float("layer_norm_epsilon", 1e-5);
  const bool is_rwkv = model_type == "rwkv";
  p.vocab = positive(cfg, "vocab_size", cfg.get_int("vocab_size", is_rwkv ? 50277 : model_type == "mamba" ? 50280 : 32768));
  p.hidden = positive(cfg, "hidden_size", cfg.get_int("hidden_size", is_rwkv ? 4096 : model_type == "mamba" ? 768 : 4096));
  p.n_layers =
      positive(cfg, "num_hidden_layers", cfg.get_int("num_hidden_layers", is_rwkv ? 32 : model_type == "mamba" ? 32 : 64));
  // transformers' PretrainedConfig default is True; Mamba2Config and RwkvConfig default to False.
  p.tie_embeddings = cfg.get_bool("tie_word_embeddings", model_type == "mamba");
  p.use_cache = cfg.get_bool("use_cache", true);
  p.eos_ids = gen && gen->has("eos_token_id") ? gen->get_int_list("eos_token_id") : cfg.get_int_list("eos_token_id");
  if (p.eos_ids.empty() && !cfg.has("eos_token_id") && !(gen && gen->has("eos_token_id")))
    p.eos_ids = {model_type == "mamba2" ? 2 : 0};
  if (gen && gen->has("pad_token_id")) p.pad_id = gen->get_int("pad_token_id");
  else if (cfg.has("pad_token_id")) p.pad_id = cfg.get_int("pad_token_id");
  else if (!cfg.raw().contains("pad_token_id")) p.pad_id = model_type == "mamba2" ? 1 : model_type == "mamba" ? 0 : -1;

  if (model_type == "mamba" || model_type == "mamba2") {
    p.kind = model_type == "mamba" ? SsmKind::Mamba : SsmKind::Mamba2;
    p.act_name = cfg.get_string("hidden_act", "silu");
    p.act = cpu::act_from_name(p.act_name, cfg.label() + " field 'hidden_act'");
    p.state_size = positive(cfg, "state_size", cfg.get_int("state_size", p.kind == SsmKind::Mamba ? 16 : 128));
    p.conv_kernel = positive(cfg, "conv_kernel", cfg.get_int("conv_kernel", 4));
    p.use_bias = cfg.get_bool("use_bias", false);
    p.use_conv_bias = cfg.get_bool("use_conv_bias", true);
    p.residual_in_fp32 = cfg.get_bool("residual_in_fp32", true);
    p.time_step_rank = time_step_rank(cfg, p.hidden);
    const double expand = cfg.get_float("expand", 2.0);
    // MambaConfig sets intermediate_size = int(expand * hidden_size), but a stored
    // "intermediate_size" key overrides it (PretrainedConfig sets extra kwargs last);
    // Mamba2Mixer always uses int(expand * hidden_size).
    const int64_t from_expand = int64_t(expand * double(p.hidden));
    p.intermediate = p.kind == SsmKind::Mamba ? cfg.get_int("intermediate_size", from_expand) : from_expand;
    positive(cfg, "intermediate_size (expand * hidden_size)", p.intermediate);
    if (p.kind == SsmKind::Mamba2) {
      p.n_heads = positive(cfg, "num_heads", cfg.get_int("num_heads", 128));
      p.head_dim = positive(cfg, "head_dim", cfg.get_int("head_dim", 64));
      p.n_groups = positive(cfg, "n_groups", cfg.get_int("n_groups", 8));
      p.chunk_size = positive(cfg, "chunk_size", cfg.get_int("chunk_size", 256));
      p.time_step_min = cfg.get_float("time_step_min", 0.001);
      p.norm_before_gate = cfg.get_bool("norm_before_gate", true);
      p.rms_norm = cfg.get_bool("rms_norm", true);
      p.time_step_limit[0] = 0.0;
      p.time_step_limit[1] = INFINITY;
      const auto& j = cfg.raw();
      if (j.contains("time_step_limit") && !j["time_step_limit"].is_null()) {
        const auto& l = j["time_step_limit"];
        IA_CHECK(l.is_array() && l.size() == 2 && l[0].is_number() && l[1].is_number(), cfg.label(),
                 ": field 'time_step_limit' must be a pair of numbers");
        p.time_step_limit[0] = l[0].get<double>();
        p.time_step_limit[1] = l[1].get<double>();
      }
      IA_CHECK(p.n_heads * p.head_dim == p.intermediate, cfg.label(), ": num_heads * head_dim (", p.n_heads, " * ",
               p.head_dim, ") must equal expand * hidden_size (", p.intermediate, ")");
      IA_CHECK(p.n_heads % p.n_groups == 0, cfg.label(), ": num_heads (", p.n_heads, ") must be a multiple of n_groups (",
               p.n_groups, ")");
    }
  } else if (is_rwkv) {
    p.kind = SsmKind::Rwkv;
    p.attention_hidden = cfg.get_int("attention_hidden_size", p.hidden);
    p.rwkv_intermediate = cfg.get_int("intermediate_size", 4 * p.hidden);
    positive(cfg, "attention_hidden_size", p.attention_hidden);
    positive(cfg, "intermediate_size", p.rwkv_intermediate);
    p.rescale_every = cfg.get_int("rescale_every", 6);
    p.context_length = cfg.get_int("context_length", 1024);
  } else {
    fail(cfg.label(), ": model_type '", model_type, "' is not a state-space model");
  }
  return p;
}

}  // namespace ia
