#include "templates/sam/sam_vision_encoder.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"

namespace ia {

SamVisionEncoder::SamVisionEncoder(const SamVisionParams& p, const Weights& w)
    : p_(p), act_(cpu::act_from_name(p.act, "vision_config.hidden_act")) {
  const int64_t C = p.hidden, G = p.grid(), hd = C / p.heads;
  Conv2dSpec ps;
  ps.in_channels = p.num_channels;
  ps.out_channels = C;
  ps.kernel_h = ps.kernel_w = ps.stride_h = ps.stride_w = p.patch_size;
  patch_embed_ = Conv2d::load(w.pp("patch_embed").pp("projection"), ps);
  if (p.use_abs_pos) pos_embed_ = w.get("pos_embed", {1, G, G, C});
  for (int64_t i = 0; i < p.layers; ++i) {
    Weights lw = w.pp("layers").pp(i);
    Layer L;
    L.window = p.window_of(i);
    L.ln1 = LayerNorm::load(lw.pp("layer_norm1"), C, p.eps);
    L.ln2 = LayerNorm::load(lw.pp("layer_norm2"), C, p.eps);
    L.qkv = Linear::load(lw.pp("attn").pp("qkv"), C, 3 * C, p.qkv_bias);
    L.proj = Linear::load(lw.pp("attn").pp("proj"), C, C, true);
    L.lin1 = Linear::load(lw.pp("mlp").pp("lin1"), C, p.mlp_dim, true);
    L.lin2 = Linear::load(lw.pp("mlp").pp("lin2"), p.mlp_dim, C, true);
    if (p.use_rel_pos) {
      const int64_t size = L.window == 0 ? G : L.window;
      L.rel_pos_h = lw.pp("attn").get("rel_pos_h", {2 * size - 1, hd});
      L.rel_pos_w = lw.pp("attn").get("rel_pos_w", {2 * size - 1, hd});
    }
    layers_.push_back(std::move(L));
  }
  Conv2dSpec c1;
  c1.in_channels = C;
  c1.out_channels = p.output_channels;
  c1.bias = false;
  neck_conv1_ = Conv2d::load(w.pp("neck").pp("conv1"), c1);
  Conv2dSpec c2;
  c2.in_channels = c2.out_channels = p.output_channels;
  c2.kernel_h = c2.kernel_w = 3;
  c2.pad_h = c2.pad_w = 1;
  c2.bias = false;
  neck_conv2_ = Conv2d::load(w.pp("neck").pp("conv2"), c2);
  // SamLayerNorm in the neck keeps its constructor default eps (1e-6), not the config's.
  neck_ln1_ = ChannelsFirstLayerNorm::load(w.pp("neck").pp("layer_norm1"), p.output_channels, 1e-6f);
  neck_ln2_ = ChannelsFirstLayerNorm::load(w.pp("neck").pp("layer_norm2"), p.output_channels, 1e-6f);
}

void SamVisionEncoder::attention(const Layer& L, const float* x, int64_t nb, int64_t S, float* out) const {
  const int64_t C = p_.hidden, H = p_.heads, hd = C / H, T = S * S;
  Tensor qkv = Tensor::f32({nb * T, 3 * C});
  L.qkv.forward(x, nb * T, qkv.f32());
  const float scale = 1.f / std::sqrt(float(hd));
  const bool rel = p_.use_rel_pos;
  const float* Rh = rel ? L.rel_pos_h.f32() : nullptr;
  const float* Rw = rel ? L.rel_pos_w.f32() : nullptr;
  const float* base = qkv.f32();
  const int64_t row = 3 * C;
  // Queries are processed in chunks so the score block stays small for global
  // attention over large grids (64x64 tokens in SAM-ViT-B).
  const int64_t chunk = std::min<int64_t>(T, 256);
  const int nt = omp_get_max_threads();
  const size_t per_thread = size_t(chunk * T + 2 * chunk * S);
  std::vector<float> scratch(size_t(nt) * per_thread);
#pragma omp parallel for schedule(dynamic) if (nb * H * T * T * hd > 32768)
  for (int64_t bh = 0; bh < nb * H; ++bh) {
    const int64_t b = bh / H, h = bh % H;
    float* sc = scratch.data() + size_t(omp_get_thread_num()) * per_thread;
    float* rh = sc + chunk * T;
    float* rw = rh + chunk * S;
    const float* qb = base + b * T * row + h * hd;
    const float* kb = qb + C;
    const float* vb = qb + 2 * C;
    for (int64_t i0 = 0; i0 < T; i0 += chunk) {
      const int64_t m = std::min(chunk, T - i0);
      cpu::gemm_nt(m, T, hd, qb + i0 * row, row, kb, row, sc, T, scale);
      for (int64_t r = 0; r < m; ++r) {
        float* srow = sc + r * T;
        if (rel) {
          // Decomposed relative positions use the unscaled query: q . Rh[qh - kh + S - 1].
          const int64_t i = i0 + r, qh = i / S, qw = i % S;
          const float* qi = qb + i * row;
          float* rhr = rh + r * S;
          float* rwr = rw + r * S;
          for (int64_t k = 0; k < S; ++k) {
            rhr[k] = cpu::dot(qi, Rh + (qh - k + S - 1) * hd, hd);
            rwr[k] = cpu::dot(qi, Rw + (qw - k + S - 1) * hd, hd);
          }
          for (int64_t kh = 0; kh < S; ++kh)
            for (int64_t kw = 0; kw < S; ++kw) srow[kh * S + kw] += rhr[kh] + rwr[kw];
        }
        cpu::softmax_inplace(srow, T);
      }
      cpu::gemm_nn(m, hd, T, sc, T, vb, row, out + (b * T + i0) * C + h * hd, C);
    }
  }
  // Projection over the gathered heads.
  Tensor tmp = Tensor::f32({nb * T, C});
  L.proj.forward(out, nb * T, tmp.f32());
  std::memcpy(out, tmp.f32(), size_t(nb * T * C) * sizeof(float));
}

void SamVisionEncoder::layer_forward(const Layer& L, Tensor& hidden) const {
  const int64_t B = hidden.dim(0), G = hidden.dim(1), C = p_.hidden;
  const int64_t n = B * G * G;
  Tensor normed = Tensor::f32({B, G, G, C});
  L.ln1.forward(hidden.f32(), n, normed.f32());
  Tensor attn_out = Tensor::f32({B, G, G, C});
  if (L.window == 0) {
    attention(L, normed.f32(), B, G, attn_out.f32());
  } else {
    // window_partition: zero-pad the grid to a multiple of the window (the padded
    // tokens take part in attention, as in the reference), attend per window, crop back.
    const int64_t ws = L.window, Gp = (G + ws - 1) / ws * ws, nw = Gp / ws;
    const int64_t nb = B * nw * nw, T = ws * ws;
    Tensor win = Tensor::zeros(DType::F32, {nb * T, C});
    Tensor wout = Tensor::f32({nb * T, C});
    const float* src = normed.f32();
    float* dst = win.f32();
    auto window_row = [&](int64_t b, int64_t y, int64_t x) {
      const int64_t w = (b * nw + y / ws) * nw + x / ws;
      return w * T + (y % ws) * ws + (x % ws);
    };
    for (int64_t b = 0; b < B; ++b)
      for (int64_t y = 0; y < G; ++y)
        for (int64_t x = 0; x < G; ++x)
          std::memcpy(dst + window_row(b, y, x) * C, src + ((b * G + y) * G + x) * C, size_t(C) * sizeof(float));
    attention(L, win.f32(), nb, ws, wout.f32());
    float* ao = attn_out.f32();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t y = 0; y < G; ++y)
        for (int64_t x = 0; x < G; ++x)
          std::memcpy(ao + ((b * G + y) * G + x) * C, wout.f32() + window_row(b, y, x) * C, size_t(C) * sizeof(float));
  }
  cpu::add_inplace(hidden.f32(), attn_out.f32(), n * C);
  L.ln2.forward(hidden.f32(), n, normed.f32());
  Tensor mid = Tensor::f32({n, p_.mlp_dim});
  L.lin1.forward(normed.f32(), n, mid.f32());
  cpu::apply_act(act_, mid.f32(), mid.numel());
  L.lin2.forward(mid.f32(), n, attn_out.f32());
  cpu::add_inplace(hidden.f32(), attn_out.f32(), n * C);
}

Tensor SamVisionEncoder::forward(const Tensor& pixel_values) const {
  IA_CHECK(pixel_values.rank() == 4 && pixel_values.dim(1) == p_.num_channels &&
               pixel_values.dim(2) == p_.image_size && pixel_values.dim(3) == p_.image_size,
           "sam: pixel_values ", shape_str(pixel_values.shape()), " must be [B, ", p_.num_channels, ", ",
           p_.image_size, ", ", p_.image_size, "] (vision_config.num_channels / image_size)");
  Tensor x = nchw_to_nhwc(patch_embed_.forward(pixel_values.to_f32()));  // [B, G, G, C]
  const int64_t B = x.dim(0), G = p_.grid(), C = p_.hidden;
  if (pos_embed_.defined()) {
    for (int64_t b = 0; b < B; ++b) cpu::add_inplace(x.f32() + b * G * G * C, pos_embed_.f32(), G * G * C);
  }
  for (const auto& L : layers_) layer_forward(L, x);
  Tensor y = neck_conv1_.forward(nhwc_to_nchw(x));
  neck_ln1_.forward_inplace(y);
  y = neck_conv2_.forward(y);
  neck_ln2_.forward_inplace(y);
  return y;
}

}  // namespace ia
