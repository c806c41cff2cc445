// Rotary position embeddings with every rope_scaling variant transformers 4.44.2
// implements: default, linear, dynamic NTK, yarn, longrope (Phi-3 "su"/"yarn"
// aliases included) and llama3. Partial rotary (first `dim` dims of a head) and
// both pairings: rotate_half (pairs i, i+dim/2) and GPT-J's interleaved
// rotate_every_two (pairs 2i, 2i+1).
//
// Three update rules exist in 4.44 and give different numbers once a sequence
// outgrows the trained context, so the rule is explicit:
//  * Modern  (llama's rope_utils): dynamic NTK recomputes from max(position)+1,
//    grows and resets (stateful across calls like the torch module).
//  * Legacy  (gpt_neox, falcon, phi): a cos/sin table over the key length; linear
//    scales the position t/factor, dynamic NTK grows with the key length, no reset.
//  * Phi3LongRope: short/long factors picked per call from max(position)+1.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ia {

class HFConfig;

enum class RopeType { Default, Linear, Dynamic, Yarn, LongRope, Llama3 };
enum class RopeRule { Modern, Legacy, Phi3LongRope };
const char* rope_type_name(RopeType t);

struct RopeParams {
  RopeType type = RopeType::Default;
  RopeRule rule = RopeRule::Modern;
  int64_t dim = 0;              // rotated dims per head (even)
  double base = 10000.0;
  bool interleaved = false;     // GPT-J rotate_every_two
  double factor = 1.0;
  int64_t max_pos = 2048;       // config.max_position_embeddings
  int64_t original_max_pos = 0; // llama3 / longrope original context (0 = not set)
  double low_freq_factor = 1.0, high_freq_factor = 4.0;  // llama3
  double beta_fast = 32.0, beta_slow = 1.0;              // yarn
  double attention_factor = -1.0;  // yarn/longrope: <0 = derive as 4.44 does
  std::vector<float> short_factor, long_factor;          // longrope
};

// Reads config.rope_scaling ("rope_type" or legacy "type") for a model whose rotary
// embedding follows `rule`; fails naming the config file and field for unknown or
// incomplete settings, and for types the model type does not implement in 4.44.
RopeParams rope_params_from_config(const HFConfig& cfg, RopeRule rule, int64_t dim, double base,
                                   const std::vector<RopeType>& allowed, const std::string& model_type);

class Rope {
 public:
  Rope() = default;
  explicit Rope(RopeParams p);

  const RopeParams& params() const { return p_; }
  // Current inverse frequencies [dim/2] and cos/sin post-scaling (yarn/longrope).
  const std::vector<float>& inv_freq() const { return inv_freq_; }
  float attention_scaling() const { return attn_scale_; }

  // Computes cos/sin for `n` positions of one forward call. `kv_len` is the key
  // length of the call (past + new), used by the legacy table rule.
  void prepare(const int64_t* positions, int64_t n, int64_t kv_len);
  // Rotates the first `dim` values of every head in rows [0, n) of x: row r uses
  // the r-th prepared position. Rows are `row_stride` floats apart, heads `head_dim`.
  void apply(float* x, int64_t n, int64_t row_stride, int64_t n_heads, int64_t head_dim) const;

  // Angle cos/sin of the r-th prepared position, frequency i (tests).
  float cos_at(int64_t r, int64_t i) const { return cos_[size_t(r * half_ + i)]; }
  float sin_at(int64_t r, int64_t i) const { return sin_[size_t(r * half_ + i)]; }

  // Inverse frequencies exactly as modeling_rope_utils computes them for `seq_len`
  // (dynamic NTK uses it; others ignore it). Exposed for tests.
  static std::vector<float> compute_inv_freq(const RopeParams& p, int64_t seq_len, float* attention_scaling);

 private:
  RopeParams p_;
  int64_t half_ = 0;
  std::vector<float> inv_freq_, original_inv_freq_;
  float attn_scale_ = 1.f;
  int64_t cached_len_ = 0;  // max_seq_len_cached of the torch module
  std::vector<float> cos_, sin_;
};

}  // namespace ia
