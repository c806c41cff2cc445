// Keys and values of decoder cross-attention: projected once from the encoder
// output when decoding starts, then read at every step (transformers keeps them
// as past_key_values[layer][2:4]). One block per layer holds [batch, src_len,
// k_dim] keys and values; the encoder's padding mask travels with them.
#pragma once
#include <cstdint>
#include <vector>

#include "parts/nn.h"

namespace ia {

class CrossAttentionCache {
 public:
  // Sizes the cache (memory is kept when it fits) and copies the encoder mask
  // [batch, src_len] (null = no padding).
  void reset(int64_t n_layers, int64_t batch, int64_t src_len, int64_t k_dim, int64_t v_dim, const int64_t* mask);
  // Projects encoder states [batch * src_len, in] through k_proj / v_proj into `layer`.
  void fill(int64_t layer, const Linear& k_proj, const Linear& v_proj, const float* encoder_states);

  int64_t batch() const { return batch_; }
  int64_t src_len() const { return src_len_; }
  bool filled() const { return filled_; }
  const float* keys(int64_t layer) const { return k_[size_t(layer)].data(); }
  const float* values(int64_t layer) const { return v_[size_t(layer)].data(); }
  int64_t k_row() const { return k_dim_; }
  int64_t v_row() const { return v_dim_; }
  int64_t k_batch_stride() const { return src_len_ * k_dim_; }
  int64_t v_batch_stride() const { return src_len_ * v_dim_; }
  const int64_t* mask() const { return mask_.data(); }

 private:
  int64_t batch_ = 0, src_len_ = 0, k_dim_ = 0, v_dim_ = 0;
  bool filled_ = false;
  std::vector<std::vector<float>> k_, v_;
  std::vector<int64_t> mask_;
};

}  // namespace ia
