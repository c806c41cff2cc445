// T5-style relative attention bias: distances between key and query positions
// are mapped to log-spaced buckets (T5Attention._relative_position_bucket) and
// each bucket has one learned scalar per head (relative_attention_bias, an
// Embedding [num_buckets, n_heads]). Shared by t5 and its descendants
// (switch_transformers, mt5, umt5 style rows).
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace ia {

// Bucket of `relative_position` = key_pos - query_pos, computed in float32 as
// transformers does (the log branch truncates toward zero). Bidirectional
// (encoder) uses half the buckets for positive distances; unidirectional
// (decoder) maps all positive distances to bucket 0.
int64_t t5_relative_position_bucket(int64_t relative_position, bool bidirectional, int64_t num_buckets,
                                    int64_t max_distance);

class T5RelativeBias {
 public:
  T5RelativeBias() = default;
  // table: [num_buckets, n_heads] F32 (the checkpoint's relative_attention_bias.weight).
  T5RelativeBias(Tensor table, bool bidirectional, int64_t max_distance);
  bool defined() const { return table_.defined(); }
  int64_t n_heads() const { return n_heads_; }

  // out[h, i, j] (row-major [n_heads, Tq, Tk]) = bias for query q0 + i and key j.
  void compute(int64_t q0, int64_t Tq, int64_t Tk, float* out) const;

 private:
  Tensor table_;
  bool bidirectional_ = true;
  int64_t num_buckets_ = 0, n_heads_ = 0, max_distance_ = 0;
  mutable std::vector<int64_t> scratch_;  // bucket per distance (not shared across threads)
};

}  // namespace ia
