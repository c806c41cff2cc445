#include "parts/resnet_block.h"

#include "core/error.h"

namespace ia {

ResnetBlock2D ResnetBlock2D::load(const Weights& w, const ResnetBlock2DSpec& spec) {
  IA_CHECK(spec.time_embedding_norm == "default" || spec.time_embedding_norm == "scale_shift", w.prefix(),
           ": unsupported time_embedding_norm '", spec.time_embedding_norm, "' (default or scale_shift)");
  ResnetBlock2D r;
  r.spec = spec;
  const int64_t gout = spec.groups_out ? spec.groups_out : spec.groups;
  r.norm1 = GroupNorm::load(w.pp("norm1"), spec.groups, spec.in_channels, spec.eps);
  Conv2dSpec c3;
  c3.kernel_h = c3.kernel_w = 3;
  c3.pad_h = c3.pad_w = 1;
  c3.in_channels = spec.in_channels;
  c3.out_channels = spec.out_channels;
  r.conv1 = Conv2d::load(w.pp("conv1"), c3);
  if (spec.temb_channels > 0) {
    const int64_t n = spec.time_embedding_norm == "scale_shift" ? 2 * spec.out_channels : spec.out_channels;
    r.time_emb_proj = Linear::load(w.pp("time_emb_proj"), spec.temb_channels, n, true);
  }
  r.norm2 = GroupNorm::load(w.pp("norm2"), gout, spec.out_channels, spec.eps);
  c3.in_channels = spec.out_channels;
  r.conv2 = Conv2d::load(w.pp("conv2"), c3);
  r.has_shortcut = spec.in_channels != spec.out_channels;
  if (r.has_shortcut) {
    Conv2dSpec c1;
    c1.in_channels = spec.in_channels;
    c1.out_channels = spec.out_channels;
    r.conv_shortcut = Conv2d::load(w.pp("conv_shortcut"), c1);
  }
  return r;
}

Tensor ResnetBlock2D::forward(const Tensor& x, const Tensor& temb) const {
  IA_CHECK(x.rank() == 4 && x.dim(1) == spec.in_channels, "ResnetBlock2D: input ", shape_str(x.shape()),
           " must be [B, ", spec.in_channels, ", H, W]");
  const int64_t B = x.dim(0), C = spec.out_channels;
  Tensor h = conv1.forward(norm1.forward(x, spec.act));
  const int64_t HW = h.dim(2) * h.dim(3);
  float* hd = h.f32();
  Tensor t;  // [B, C] or [B, 2C]
  if (time_emb_proj.defined()) {
    IA_CHECK(temb.defined() && temb.rank() == 2 && temb.dim(0) == B && temb.dim(1) == spec.temb_channels,
             "ResnetBlock2D: time embedding ", temb.defined() ? shape_str(temb.shape()) : std::string("(none)"),
             " must be [", B, ", ", spec.temb_channels, "]");
    Tensor a = temb.clone();
    if (!spec.skip_time_act) cpu::apply_act(spec.act, a.f32(), a.numel());
    t = time_emb_proj.forward(a);
  }
  if (spec.time_embedding_norm == "scale_shift") {
    IA_CHECK(t.defined(), "ResnetBlock2D: time_embedding_norm scale_shift needs a time embedding");
    norm2.forward(hd, B, HW, hd);
    const float* td = t.f32();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t c = 0; c < C; ++c) {
        const float sc = 1.f + td[b * 2 * C + c], sh = td[b * 2 * C + C + c];
        float* p = hd + (b * C + c) * HW;
        for (int64_t i = 0; i < HW; ++i) p[i] = p[i] * sc + sh;
      }
    cpu::apply_act(spec.act, hd, h.numel());
  } else {
    if (t.defined()) {
      const float* td = t.f32();
      for (int64_t b = 0; b < B; ++b)
        for (int64_t c = 0; c < C; ++c) {
          const float v = td[b * C + c];
          float* p = hd + (b * C + c) * HW;
          for (int64_t i = 0; i < HW; ++i) p[i] += v;
        }
    }
    norm2.forward(hd, B, HW, hd, spec.act);
  }
  Tensor out = conv2.forward(h);
  Tensor sc = has_shortcut ? conv_shortcut.forward(x) : x;
  float* o = out.f32();
  const float* s = sc.f32();
  const int64_t n = out.numel();
  IA_CHECK(sc.numel() == n, "ResnetBlock2D: shortcut shape ", shape_str(sc.shape()), " != ", shape_str(out.shape()));
  if (spec.output_scale_factor == 1.0) {
    for (int64_t i = 0; i < n; ++i) o[i] += s[i];
  } else {
    const float f = float(spec.output_scale_factor);
    for (int64_t i = 0; i < n; ++i) o[i] = (s[i] + o[i]) / f;
  }
  return out;
}

}  // namespace ia
