#include "parts/cross_attention_cache.h"

#include "core/error.h"

namespace ia {

void CrossAttentionCache::reset(int64_t n_layers, int64_t batch, int64_t src_len, int64_t k_dim, int64_t v_dim,
                                const int64_t* mask) {
  IA_CHECK(n_layers >= 0 && batch > 0 && src_len > 0, "cross-attention cache: invalid size (layers ", n_layers,
           ", batch ", batch, ", source length ", src_len, ")");
  batch_ = batch;
  src_len_ = src_len;
  k_dim_ = k_dim;
  v_dim_ = v_dim;
  k_.resize(size_t(n_layers));
  v_.resize(size_t(n_layers));
  for (auto& k : k_) k.resize(size_t(batch * src_len * k_dim));
  for (auto& v : v_) v.resize(size_t(batch * src_len * v_dim));
  mask_.resize(size_t(batch * src_len));
  for (int64_t i = 0; i < batch * src_len; ++i) mask_[size_t(i)] = mask ? (mask[i] != 0 ? 1 : 0) : 1;
  filled_ = false;
}

void CrossAttentionCache::fill(int64_t layer, const Linear& k_proj, const Linear& v_proj, const float* encoder_states) {
  IA_CHECK(layer >= 0 && size_t(layer) < k_.size(), "cross-attention cache: layer ", layer, " out of range");
  IA_CHECK(k_proj.out == k_dim_ && v_proj.out == v_dim_, "cross-attention cache: projection widths ", k_proj.out, "/",
           v_proj.out, " do not match the cache (", k_dim_, "/", v_dim_, ")");
  k_proj.forward(encoder_states, batch_ * src_len_, k_[size_t(layer)].data());
  v_proj.forward(encoder_states, batch_ * src_len_, v_[size_t(layer)].data());
  filled_ = true;
}

}  // namespace ia
