#include "parts/spatial_self_attention.h"

#include "core/error.h"
#include "parts/nchw_layout.h"

namespace ia {

SpatialSelfAttention SpatialSelfAttention::load(const Weights& w, int64_t channels, int64_t head_dim,
                                                int64_t norm_groups, float eps, double rescale_output_factor) {
  IA_CHECK(head_dim > 0 && channels % head_dim == 0, w.prefix(), ": attention head size ", head_dim,
           " must divide the channel count ", channels);
  SpatialSelfAttention s;
  s.has_norm = norm_groups > 0;
  if (s.has_norm) s.group_norm = GroupNorm::load(w.pp("group_norm"), norm_groups, channels, eps);
  s.attn = DiffusersAttention::load(w, channels, channels, channels / head_dim, head_dim, true, true);
  s.rescale_output_factor = rescale_output_factor;
  return s;
}

Tensor SpatialSelfAttention::forward(const Tensor& x) const {
  IA_CHECK(x.rank() == 4 && x.dim(1) == attn.query_dim, "attention block: input ", shape_str(x.shape()),
           " must be [B, ", attn.query_dim, ", H, W]");
  const int64_t H = x.dim(2), W = x.dim(3);
  Tensor h = attn.forward(nchw_to_tokens(has_norm ? group_norm.forward(x) : x));
  Tensor y = tokens_to_nchw(h, H, W);
  float* yd = y.f32();
  const float* xd = x.f32();
  const float f = float(rescale_output_factor);
  for (int64_t i = 0, n = y.numel(); i < n; ++i) yd[i] = (yd[i] + xd[i]) / f;
  return y;
}

}  // namespace ia
