#include "parts/transformer_2d.h"

#include <cmath>

#include "core/error.h"
#include "parts/nchw_layout.h"

namespace ia {

namespace {

// proj_in / proj_out: a Linear, or a 1x1 Conv2d whose [out, in, 1, 1] weight is the Linear's.
Linear load_projection(const Weights& w, int64_t in, int64_t out, bool linear) {
  if (linear) return Linear::load(w, in, out, true);
  Tensor weight = w.get("weight", {out, in, 1, 1}).reshape({out, in});
  return Linear::from(std::move(weight), w.get("bias", {out}));
}

void add_into(Tensor& x, const Tensor& y) {
  IA_CHECK(x.numel() == y.numel(), "residual: shapes ", shape_str(x.shape()), " and ", shape_str(y.shape()), " differ");
  cpu::add_inplace(x.f32(), y.f32(), x.numel());
}

}  // namespace

BasicTransformerBlock BasicTransformerBlock::load(const Weights& w, int64_t dim, const Transformer2DSpec& spec) {
  BasicTransformerBlock b;
  b.only_cross_attention = spec.only_cross_attention;
  IA_CHECK(!spec.only_cross_attention || spec.cross_attention_dim > 0, w.prefix(),
           ": only_cross_attention needs a cross_attention_dim");
  b.norm1 = LayerNorm::load(w.pp("norm1"), dim, spec.norm_eps);
  b.attn1 = DiffusersAttention::load(w.pp("attn1"), dim, spec.only_cross_attention ? spec.cross_attention_dim : dim,
                                     spec.heads, spec.head_dim, false, true);
  b.has_attn2 = spec.cross_attention_dim > 0;
  if (b.has_attn2) {
    b.norm2 = LayerNorm::load(w.pp("norm2"), dim, spec.norm_eps);
    b.attn2 = DiffusersAttention::load(w.pp("attn2"), dim, spec.cross_attention_dim, spec.heads, spec.head_dim, false,
                                       true);
  }
  b.norm3 = LayerNorm::load(w.pp("norm3"), dim, spec.norm_eps);
  b.ff_inner = dim * 4;
  b.ff_in = Linear::load(w.pp("ff").pp("net").pp(0).pp("proj"), dim, 2 * b.ff_inner, true);
  b.ff_out = Linear::load(w.pp("ff").pp("net").pp(2), b.ff_inner, dim, true);
  return b;
}

void BasicTransformerBlock::forward(Tensor& x, const Tensor* context) const {
  const int64_t B = x.dim(0), T = x.dim(1), dim = x.dim(2), rows = B * T;
  if ((only_cross_attention || has_attn2) && !context)
    fail("transformer block: cross-attention needs encoder_hidden_states");
  Tensor n = Tensor::f32(x.shape());
  norm1.forward(x.f32(), rows, n.f32());
  add_into(x, attn1.forward(n, only_cross_attention ? context : nullptr));
  if (has_attn2) {
    norm2.forward(x.f32(), rows, n.f32());
    add_into(x, attn2.forward(n, context));
  }
  norm3.forward(x.f32(), rows, n.f32());
  // GEGLU: hidden * gelu(gate), the projection's two halves.
  Tensor hg = ff_in.forward(n);
  Tensor g = Tensor::f32({B, T, ff_inner});
  const float* hgd = hg.f32();
  float* gd = g.f32();
#pragma omp parallel for schedule(static) if (rows * ff_inner > 65536)
  for (int64_t r = 0; r < rows; ++r) {
    const float* h = hgd + r * 2 * ff_inner;
    float* o = gd + r * ff_inner;
    for (int64_t i = 0; i < ff_inner; ++i) {
      const float gate = h[ff_inner + i];
      o[i] = h[i] * (0.5f * gate * (1.f + std::erf(gate * 0.70710678118654752f)));
    }
  }
  add_into(x, ff_out.forward(g));
  (void)dim;
}

Transformer2D Transformer2D::load(const Weights& w, const Transformer2DSpec& spec) {
  IA_CHECK(spec.heads > 0 && spec.head_dim > 0 && spec.num_layers > 0, w.prefix(),
           ": Transformer2DModel needs positive heads, head size and layer count");
  Transformer2D t;
  t.spec = spec;
  const int64_t inner = spec.heads * spec.head_dim;
  t.norm = GroupNorm::load(w.pp("norm"), spec.norm_num_groups, spec.in_channels, 1e-6f);
  t.proj_in = load_projection(w.pp("proj_in"), spec.in_channels, inner, spec.use_linear_projection);
  for (int64_t i = 0; i < spec.num_layers; ++i)
    t.blocks.push_back(BasicTransformerBlock::load(w.pp("transformer_blocks").pp(i), inner, spec));
  t.proj_out = load_projection(w.pp("proj_out"), inner, spec.in_channels, spec.use_linear_projection);
  return t;
}

Tensor Transformer2D::forward(const Tensor& x, const Tensor& encoder_hidden_states) const {
  IA_CHECK(x.rank() == 4 && x.dim(1) == spec.in_channels, "Transformer2DModel: input ", shape_str(x.shape()),
           " must be [B, ", spec.in_channels, ", H, W]");
  const Tensor* ctx = encoder_hidden_states.defined() ? &encoder_hidden_states : nullptr;
  if (ctx)
    IA_CHECK(ctx->rank() == 3 && ctx->dim(0) == x.dim(0) && ctx->dim(2) == spec.cross_attention_dim,
             "Transformer2DModel: encoder_hidden_states ", shape_str(ctx->shape()), " must be [", x.dim(0), ", S, ",
             spec.cross_attention_dim, "]");
  const int64_t H = x.dim(2), W = x.dim(3);
  Tensor h = proj_in.forward(nchw_to_tokens(norm.forward(x)));
  for (const auto& b : blocks) b.forward(h, ctx);
  Tensor y = tokens_to_nchw(proj_out.forward(h), H, W);
  cpu::add_inplace(y.f32(), x.f32(), y.numel());
  return y;
}

}  // namespace ia
