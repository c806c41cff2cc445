// diffusers Attention with the classic AttnProcessor (attention_processor.py) over token
// rows: q = to_q(x), k/v = to_k/to_v(context or x), per-head softmax(q k^T * scale) v,
// then to_out.0. Scores are computed with GEMMs in chunks of query rows, so a 64x64
// latent (4096 tokens) never materialises a full [T, T] matrix per head.
#pragma once
#include <cstdint>

#include "core/tensor.h"
#include "parts/nn.h"
#include "parts/weights.h"

namespace ia {

// Multi-head scaled dot-product attention over row-major token rows holding all heads
// contiguously (q [B, Tq, H*D], k/v [B, Tk, H*D], out [B, Tq, H*D]; row strides given).
// Query rows are processed in chunks whose score block holds at most `max_scores` floats.
void sdpa_chunked(int64_t B, int64_t Tq, int64_t Tk, int64_t heads, int64_t head_dim, float scale, const float* q,
                  int64_t q_row, const float* k, int64_t k_row, const float* v, int64_t v_row, float* out,
                  int64_t out_row, int64_t max_scores = int64_t(1) << 20);

struct DiffusersAttention {
  Linear to_q, to_k, to_v, to_out;
  int64_t heads = 1, dim_head = 0, query_dim = 0, context_dim = 0;
  float scale = 1.f;

  // `w` is the module (e.g. "attn1"); q/k/v have a bias only when `qkv_bias`.
  // Older diffusers checkpoints name them query/key/value/proj_attn; both are read.
  static DiffusersAttention load(const Weights& w, int64_t query_dim, int64_t context_dim, int64_t heads,
                                 int64_t dim_head, bool qkv_bias, bool out_bias = true);
  // x [B, T, query_dim]; context [B, S, context_dim] or null (self-attention) -> [B, T, query_dim].
  Tensor forward(const Tensor& x, const Tensor* context = nullptr) const;
};

}  // namespace ia
