#include "parts/diffusers_attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "backends/cpu/kernels.h"
#include "core/error.h"

namespace ia {

void sdpa_chunked(int64_t B, int64_t Tq, int64_t Tk, int64_t heads, int64_t D, float scale, const float* q,
                  int64_t q_row, const float* k, int64_t k_row, const float* v, int64_t v_row, float* out,
                  int64_t out_row, int64_t max_scores) {
  // Query rows per chunk: keeps the score block around 4 MB for long key sequences.
  const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(Tq, max_scores / std::max<int64_t>(Tk, 1)));
  std::vector<float> scores(size_t(chunk * Tk));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < heads; ++h) {
      const float* qb = q + b * Tq * q_row + h * D;
      const float* kb = k + b * Tk * k_row + h * D;
      const float* vb = v + b * Tk * v_row + h * D;
      float* ob = out + b * Tq * out_row + h * D;
      for (int64_t i0 = 0; i0 < Tq; i0 += chunk) {
        const int64_t m = std::min(chunk, Tq - i0);
        cpu::gemm_nt(m, Tk, D, qb + i0 * q_row, q_row, kb, k_row, scores.data(), Tk, scale, 0.f);
#pragma omp parallel for schedule(static) if (m * Tk > 65536)
        for (int64_t i = 0; i < m; ++i) cpu::softmax_inplace(scores.data() + i * Tk, Tk);
        cpu::gemm_nn(m, D, Tk, scores.data(), Tk, vb, v_row, ob + i0 * out_row, out_row, 1.f, 0.f);
      }
    }
}

namespace {

Linear load_proj(const Weights& w, const char* name, const char* legacy, int64_t in, int64_t out, bool bias) {
  const Weights m = (!w.has_module(name) && w.has_module(legacy)) ? w.pp(legacy) : w.pp(name);
  return Linear::load(m, in, out, bias);
}

}  // namespace

DiffusersAttention DiffusersAttention::load(const Weights& w, int64_t query_dim, int64_t context_dim, int64_t heads,
                                            int64_t dim_head, bool qkv_bias, bool out_bias) {
  IA_CHECK(heads > 0 && dim_head > 0, w.prefix(), ": attention needs positive heads (", heads, ") and head size (",
           dim_head, ")");
  DiffusersAttention a;
  a.heads = heads;
  a.dim_head = dim_head;
  a.query_dim = query_dim;
  a.context_dim = context_dim;
  a.scale = float(1.0 / std::sqrt(double(dim_head)));
  const int64_t inner = heads * dim_head;
  a.to_q = load_proj(w, "to_q", "query", query_dim, inner, qkv_bias);
  a.to_k = load_proj(w, "to_k", "key", context_dim, inner, qkv_bias);
  a.to_v = load_proj(w, "to_v", "value", context_dim, inner, qkv_bias);
  const Weights out = (!w.has_module("to_out") && w.has_module("proj_attn")) ? w.pp("proj_attn") : w.pp("to_out").pp(0);
  a.to_out = Linear::load(out, inner, query_dim, out_bias);
  return a;
}

Tensor DiffusersAttention::forward(const Tensor& x, const Tensor* context) const {
  IA_CHECK(x.rank() == 3 && x.dim(2) == query_dim, "attention: hidden states ", shape_str(x.shape()),
           " must be [B, T, ", query_dim, "]");
  const Tensor& c = context ? *context : x;
  IA_CHECK(c.rank() == 3 && c.dim(0) == x.dim(0) && c.dim(2) == context_dim, "attention: context ",
           shape_str(c.shape()), " must be [", x.dim(0), ", S, ", context_dim, "]");
  const int64_t B = x.dim(0), T = x.dim(1), S = c.dim(1), inner = heads * dim_head;
  IA_CHECK(S > 0, "attention: empty context sequence");
  Tensor q = to_q.forward(x), k = to_k.forward(c), v = to_v.forward(c);
  Tensor o = Tensor::f32({B, T, inner});
  sdpa_chunked(B, T, S, heads, dim_head, scale, q.f32(), inner, k.f32(), inner, v.f32(), inner, o.f32(), inner);
  return to_out.forward(o);
}

}  // namespace ia
