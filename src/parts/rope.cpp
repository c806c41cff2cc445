#include "parts/rope.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "formats/hf_config.h"

namespace ia {

const char* rope_type_name(RopeType t) {
  switch (t) {
    case RopeType::Default: return "default";
    case RopeType::Linear: return "linear";
    case RopeType::Dynamic: return "dynamic";
    case RopeType::Yarn: return "yarn";
    case RopeType::LongRope: return "longrope";
    case RopeType::Llama3: return "llama3";
  }
  return "?";
}

namespace {

bool rope_type_from_name(const std::string& s, RopeType* t) {
  static const struct { const char* n; RopeType t; } table[] = {
      {"default", RopeType::Default}, {"linear", RopeType::Linear}, {"dynamic", RopeType::Dynamic},
      {"yarn", RopeType::Yarn},       {"longrope", RopeType::LongRope}, {"llama3", RopeType::Llama3}};
  for (const auto& e : table)
    if (s == e.n) {
      *t = e.t;
      return true;
    }
  return false;
}

// torch: 1.0 / (base ** (arange(0, dim, 2).float() / dim)) in float32.
std::vector<float> default_inv_freq(int64_t dim, float base) {
  std::vector<float> f(size_t(dim / 2));
  for (int64_t i = 0; i < dim / 2; ++i) {
    float e = float(2 * i) / float(dim);
    f[size_t(i)] = 1.0f / std::pow(base, e);
  }
  return f;
}

std::vector<float> float_list(const HFConfig& rs, const std::string& key) {
  std::vector<float> out;
  const auto& j = rs.raw();
  IA_CHECK(j.contains(key) && j[key].is_array(), rs.label(), ": rope_scaling.", key, " must be a list of numbers");
  for (const auto& v : j[key]) {
    IA_CHECK(v.is_number(), rs.label(), ": rope_scaling.", key, " must contain only numbers");
    out.push_back(v.get<float>());
  }
  return out;
}

}  // namespace

RopeParams rope_params_from_config(const HFConfig& cfg, RopeRule rule, int64_t dim, double base,
                                   const std::vector<RopeType>& allowed, const std::string& model_type) {
  RopeParams p;
  p.rule = rule;
  p.dim = dim;
  p.base = base;
  p.max_pos = cfg.get_int("max_position_embeddings", 2048);
  IA_CHECK(dim > 0 && dim % 2 == 0, cfg.label(), ": rotary dimension ", dim, " must be a positive even number");
  if (!cfg.has("rope_scaling")) return p;
  IA_CHECK(cfg.raw()["rope_scaling"].is_object(), cfg.label(), ": rope_scaling must be an object or null");
  HFConfig rs = cfg.sub("rope_scaling");
  std::string name = rs.has("rope_type") ? rs.get_string("rope_type") : rs.get_string("type", "");
  IA_CHECK(!name.empty(), cfg.label(), ": rope_scaling has neither 'rope_type' nor 'type'");
  if (rule == RopeRule::Phi3LongRope && (name == "su" || name == "yarn")) name = "longrope";  // Phi3Config BC rename
  IA_CHECK(rope_type_from_name(name, &p.type), cfg.label(), ": rope_scaling type '", name, "' is unknown");
  IA_CHECK(std::find(allowed.begin(), allowed.end(), p.type) != allowed.end(), cfg.label(), ": rope_scaling type '",
           name, "' is not implemented by ", model_type, " in transformers 4.44.2");
  switch (p.type) {
    case RopeType::Default: break;
    case RopeType::Linear:
    case RopeType::Dynamic:
      p.factor = rs.get_float("factor");
      break;
    case RopeType::Yarn:
      p.factor = rs.get_float("factor");
      if (rs.has("attention_factor")) p.attention_factor = rs.get_float("attention_factor");
      // `x or default` in python: 0 / null fall back as well.
      if (rs.has("beta_fast") && rs.get_float("beta_fast") != 0) p.beta_fast = rs.get_float("beta_fast");
      if (rs.has("beta_slow") && rs.get_float("beta_slow") != 0) p.beta_slow = rs.get_float("beta_slow");
      break;
    case RopeType::LongRope:
      p.short_factor = float_list(rs, "short_factor");
      p.long_factor = float_list(rs, "long_factor");
      IA_CHECK(int64_t(p.short_factor.size()) == dim / 2 && int64_t(p.long_factor.size()) == dim / 2, cfg.label(),
               ": rope_scaling short_factor/long_factor must have ", dim / 2, " entries (rotary dim / 2), got ",
               p.short_factor.size(), "/", p.long_factor.size());
      if (rs.has("factor")) p.factor = rs.get_float("factor");
      if (rs.has("attention_factor")) p.attention_factor = rs.get_float("attention_factor");
      p.original_max_pos = cfg.get_int("original_max_position_embeddings", 0);
      if (rule == RopeRule::Phi3LongRope)
        IA_CHECK(p.original_max_pos > 0, cfg.label(), ": longrope needs original_max_position_embeddings");
      else if (p.original_max_pos == 0)
        IA_CHECK(rs.has("factor"), cfg.label(), ": rope_scaling longrope needs 'factor' or original_max_position_embeddings");
      break;
    case RopeType::Llama3:
      p.factor = rs.get_float("factor");
      p.low_freq_factor = rs.get_float("low_freq_factor");
      p.high_freq_factor = rs.get_float("high_freq_factor");
      p.original_max_pos = rs.get_int("original_max_position_embeddings");
      IA_CHECK(p.high_freq_factor != p.low_freq_factor, cfg.label(),
               ": rope_scaling high_freq_factor must differ from low_freq_factor");
      break;
  }
  return p;
}

std::vector<float> Rope::compute_inv_freq(const RopeParams& p, int64_t seq_len, float* attention_scaling) {
  const int64_t dim = p.dim, half = dim / 2;
  *attention_scaling = 1.f;
  switch (p.type) {
    case RopeType::Default: return default_inv_freq(dim, float(p.base));
    case RopeType::Linear: {
      auto f = default_inv_freq(dim, float(p.base));
      if (p.rule == RopeRule::Modern)
        for (auto& x : f) x = x / float(p.factor);
      return f;  // legacy linear scales the position instead (see prepare)
    }
    case RopeType::Dynamic: {
      if (p.rule == RopeRule::Modern) {
        // seq_len is a torch tensor here, so the base update runs in float32.
        float sl = float(seq_len > p.max_pos ? seq_len : p.max_pos);
        float fac = float(p.factor);
        float b = float(p.base) *
                  std::pow(fac * sl / float(p.max_pos) - (fac - 1.f), float(double(dim) / double(dim - 2)));
        return default_inv_freq(dim, b);
      }
      if (seq_len <= p.max_pos) return default_inv_freq(dim, float(p.base));
      double b = p.base * std::pow(p.factor * double(seq_len) / double(p.max_pos) - (p.factor - 1.0),
                                   double(dim) / double(dim - 2));
      return default_inv_freq(dim, float(b));
    }
    case RopeType::Yarn: {
      const double base = p.base, factor = p.factor;
      double af = p.attention_factor >= 0 ? p.attention_factor : 0.1 * std::log(factor) + 1.0;
      *attention_scaling = float(af);
      auto corr_dim = [&](double rot) {
        return (double(dim) * std::log(double(p.max_pos) / (rot * 2 * M_PI))) / (2 * std::log(base));
      };
      double low = std::max(std::floor(corr_dim(p.beta_fast)), 0.0);
      double high = std::min(std::ceil(corr_dim(p.beta_slow)), double(dim - 1));
      if (low == high) high += 0.001;
      std::vector<float> f(static_cast<size_t>(half));
      for (int64_t i = 0; i < half; ++i) {
        float pos_freq = std::pow(float(base), float(2 * i) / float(dim));
        float extra = 1.0f / pos_freq;
        float inter = 1.0f / (float(factor) * pos_freq);
        float ramp = std::clamp((float(i) - float(low)) / float(high - low), 0.f, 1.f);
        float ef = 1.f - ramp;
        f[size_t(i)] = inter * (1.f - ef) + extra * ef;
      }
      return f;
    }
    case RopeType::LongRope: {
      bool use_long;
      double af;
      if (p.rule == RopeRule::Phi3LongRope) {
        use_long = seq_len > p.original_max_pos;
        double scale = double(p.max_pos) / double(p.original_max_pos);
        af = scale <= 1.0 ? 1.0 : std::sqrt(1 + std::log(scale) / std::log(double(p.original_max_pos)));
      } else {
        double orig, factor;
        if (p.original_max_pos > 0) {
          orig = double(p.original_max_pos);
          factor = double(p.max_pos) / orig;
          use_long = double(p.max_pos) > orig;
        } else {
          orig = double(p.max_pos);
          factor = p.factor;
          use_long = orig * factor > orig;
        }
        af = factor <= 1.0 ? 1.0 : std::sqrt(1 + std::log(factor) / std::log(orig));
        if (p.attention_factor >= 0) af = p.attention_factor;
      }
      *attention_scaling = float(af);
      const auto& ext = use_long ? p.long_factor : p.short_factor;
      std::vector<float> f(static_cast<size_t>(half));
      for (int64_t i = 0; i < half; ++i)
        f[size_t(i)] = 1.0f / (ext[size_t(i)] * std::pow(float(p.base), float(2 * i) / float(dim)));
      return f;
    }
    case RopeType::Llama3: {
      auto f = default_inv_freq(dim, float(p.base));
      const float factor = float(p.factor), lo = float(p.low_freq_factor), hi = float(p.high_freq_factor);
      const float old_ctx = float(p.original_max_pos);
      const float low_wl = old_ctx / lo, high_wl = old_ctx / hi;
      for (auto& x : f) {
        float wl = float(2 * M_PI) / x;
        float v = wl > low_wl ? x / factor : x;
        bool medium = !(wl < high_wl) && !(wl > low_wl);
        if (medium) {
          float smooth = (old_ctx / wl - lo) / (hi - lo);
          v = (1 - smooth) * v / factor + smooth * v;
        }
        x = v;
      }
      return f;
    }
  }
  return {};
}

Rope::Rope(RopeParams p) : p_(std::move(p)) {
  half_ = p_.dim / 2;
  // Phi-3 starts on the short factors (the torch module decides per call).
  const int64_t init_len = p_.rule == RopeRule::Phi3LongRope ? std::min(p_.max_pos, p_.original_max_pos) : p_.max_pos;
  inv_freq_ = compute_inv_freq(p_, init_len, &attn_scale_);
  original_inv_freq_ = inv_freq_;
  cached_len_ = init_len;
}

void Rope::prepare(const int64_t* pos, int64_t n, int64_t kv_len) {
  int64_t max_p = 0;
  for (int64_t r = 0; r < n; ++r) max_p = std::max(max_p, pos[r]);
  const int64_t seq_len = max_p + 1;
  if (p_.type == RopeType::Dynamic && p_.rule == RopeRule::Modern) {
    if (seq_len > cached_len_) {
      inv_freq_ = compute_inv_freq(p_, seq_len, &attn_scale_);
      cached_len_ = seq_len;
    }
    if (seq_len < p_.max_pos && cached_len_ > p_.max_pos) {
      inv_freq_ = original_inv_freq_;
      cached_len_ = p_.max_pos;
    }
  } else if (p_.type == RopeType::Dynamic && p_.rule == RopeRule::Legacy) {
    if (kv_len > cached_len_) {
      cached_len_ = kv_len;
      if (kv_len > p_.max_pos) inv_freq_ = compute_inv_freq(p_, kv_len, &attn_scale_);
    }
  } else if (p_.type == RopeType::LongRope && p_.rule == RopeRule::Phi3LongRope) {
    // Only the short/long choice depends on seq_len: recompute when it flips.
    bool want_long = seq_len > p_.original_max_pos;
    if (want_long != (cached_len_ > p_.original_max_pos)) {
      inv_freq_ = compute_inv_freq(p_, seq_len, &attn_scale_);
      cached_len_ = seq_len;
    }
  }
  cos_.resize(size_t(n * half_));
  sin_.resize(size_t(n * half_));
  const bool legacy_linear = p_.type == RopeType::Linear && p_.rule == RopeRule::Legacy;
  for (int64_t r = 0; r < n; ++r) {
    float t = float(pos[r]);
    if (legacy_linear) t = t / float(p_.factor);
    for (int64_t i = 0; i < half_; ++i) {
      float a = t * inv_freq_[size_t(i)];
      float c = std::cos(a), s = std::sin(a);
      if (attn_scale_ != 1.f) {
        c *= attn_scale_;
        s *= attn_scale_;
      }
      cos_[size_t(r * half_ + i)] = c;
      sin_[size_t(r * half_ + i)] = s;
    }
  }
}

void Rope::apply(float* x, int64_t n, int64_t row_stride, int64_t n_heads, int64_t head_dim) const {
  for (int64_t r = 0; r < n; ++r) {
    const float* c = cos_.data() + r * half_;
    const float* s = sin_.data() + r * half_;
    for (int64_t h = 0; h < n_heads; ++h) {
      float* v = x + r * row_stride + h * head_dim;
      if (p_.interleaved) {
        for (int64_t i = 0; i < half_; ++i) {
          float a = v[2 * i], b = v[2 * i + 1];
          v[2 * i] = a * c[i] - b * s[i];
          v[2 * i + 1] = b * c[i] + a * s[i];
        }
      } else {
        for (int64_t i = 0; i < half_; ++i) {
          float a = v[i], b = v[i + half_];
          v[i] = a * c[i] - b * s[i];
          v[i + half_] = b * c[i] + a * s[i];
        }
      }
    }
  }
}

}  // namespace ia
