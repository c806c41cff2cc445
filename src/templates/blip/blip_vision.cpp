#include "templates/blip/blip_vision.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "parts/attention.h"

namespace ia {

BlipVisionModel::BlipVisionModel(const BlipVisionParams& p, const Weights& w)
    : p_(p), act_(cpu::act_from_name(p.act, "vision_config.hidden_act")) {
  const int64_t C = p.hidden;
  Conv2dSpec s;
  s.in_channels = 3;
  s.out_channels = C;
  s.kernel_h = s.kernel_w = s.stride_h = s.stride_w = p.patch_size;
  Weights e = w.pp("embeddings");
  patch_ = Conv2d::load(e.pp("patch_embedding"), s);
  class_embedding_ = e.get("class_embedding", {1, 1, C});
  position_embedding_ = e.get("position_embedding", {1, p.num_positions(), C});
  for (int64_t i = 0; i < p.layers; ++i) {
    Weights lw = w.pp("encoder").pp("layers").pp(i);
    Layer L;
    L.ln1 = LayerNorm::load(lw.pp("layer_norm1"), C, p.eps);
    L.ln2 = LayerNorm::load(lw.pp("layer_norm2"), C, p.eps);
    L.qkv = Linear::load(lw.pp("self_attn").pp("qkv"), C, 3 * C, true);
    L.proj = Linear::load(lw.pp("self_attn").pp("projection"), C, C, true);
    L.fc1 = Linear::load(lw.pp("mlp").pp("fc1"), C, p.intermediate, true);
    L.fc2 = Linear::load(lw.pp("mlp").pp("fc2"), p.intermediate, C, true);
    layers_.push_back(std::move(L));
  }
  post_ln_ = LayerNorm::load(w.pp("post_layernorm"), C, p.eps);
}

Tensor BlipVisionModel::forward(const Tensor& pixel_values) const {
  IA_CHECK(pixel_values.rank() == 4 && pixel_values.dim(1) == 3, "blip: pixel_values ",
           shape_str(pixel_values.shape()), " must be [B, 3, H, W]");
  const int64_t C = p_.hidden, B = pixel_values.dim(0);
  IA_CHECK(pixel_values.dim(2) >= p_.patch_size && pixel_values.dim(3) >= p_.patch_size, "blip: pixel_values ",
           shape_str(pixel_values.shape()), " smaller than one ", p_.patch_size, "-pixel patch");
  Tensor patches = patch_.forward(pixel_values.to_f32());  // [B, C, gh, gw]
  const int64_t np = patches.dim(2) * patches.dim(3), T = np + 1;
  // Without interpolate_pos_encoding transformers slices the learned positions to the sequence length.
  IA_CHECK(T <= p_.num_positions(), "blip: image ", pixel_values.dim(2), "x", pixel_values.dim(3), " gives ", np,
           " patches but vision_config.image_size ", p_.image_size, " has positions for ", p_.num_positions() - 1);
  Tensor x = Tensor::f32({B, T, C});
  for (int64_t b = 0; b < B; ++b) {
    float* xb = x.f32() + b * T * C;
    std::memcpy(xb, class_embedding_.f32(), size_t(C) * sizeof(float));
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < np; ++i) xb[(1 + i) * C + c] = patches.f32()[(b * C + c) * np + i];
    cpu::add_inplace(xb, position_embedding_.f32(), T * C);
  }
  const int64_t n = B * T, hd = C / p_.heads;
  Tensor h = Tensor::f32({n, C}), qkv = Tensor::f32({n, 3 * C}), ctx = Tensor::f32({n, C}), o = Tensor::f32({n, C});
  Tensor mid = Tensor::f32({n, p_.intermediate});
  AttentionSpec s;
  s.n_heads = s.n_kv_heads = p_.heads;
  s.head_dim = hd;
  s.scale = 1.f / std::sqrt(float(hd));
  for (const auto& L : layers_) {
    L.ln1.forward(x.f32(), n, h.f32());
    L.qkv.forward(h.f32(), n, qkv.f32());
    AttentionArgs a;
    a.B = B, a.Tq = T, a.Tk = T;
    a.q = qkv.f32(), a.q_row = 3 * C, a.q_batch = T * 3 * C;
    a.k = qkv.f32() + C, a.k_row = 3 * C, a.k_batch = T * 3 * C;
    a.v = qkv.f32() + 2 * C, a.v_row = 3 * C, a.v_batch = T * 3 * C;
    a.out = ctx.f32(), a.out_row = C, a.out_batch = T * C;
    attention(s, a);
    L.proj.forward(ctx.f32(), n, o.f32());
    cpu::add_inplace(x.f32(), o.f32(), n * C);
    L.ln2.forward(x.f32(), n, h.f32());
    L.fc1.forward(h.f32(), n, mid.f32());
    cpu::apply_act(act_, mid.f32(), mid.numel());
    L.fc2.forward(mid.f32(), n, o.f32());
    cpu::add_inplace(x.f32(), o.f32(), n * C);
  }
  Tensor out = Tensor::f32({B, T, C});
  post_ln_.forward(x.f32(), n, out.f32());
  return out;
}

Tensor BlipVisionModel::pool(const Tensor& last) const {
  const int64_t B = last.dim(0), T = last.dim(1), C = p_.hidden;
  Tensor cls = Tensor::f32({B, C}), out = Tensor::f32({B, C});
  for (int64_t b = 0; b < B; ++b) std::memcpy(cls.f32() + b * C, last.f32() + b * T * C, size_t(C) * sizeof(float));
  post_ln_.forward(cls.f32(), B, out.f32());
  return out;
}

}  // namespace ia
