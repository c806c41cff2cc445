#include "parts/vision_embeddings.h"

#include <cstring>

#include "core/error.h"

namespace ia {

PatchEmbeddings PatchEmbeddings::load(const PatchEmbeddingSpec& spec, const Weights& proj, const Weights* cls_module,
                                      const std::string& cls_name, const Weights* pos_module,
                                      const std::string& pos_name) {
  IA_CHECK(spec.channels > 0 && spec.hidden > 0 && spec.patch_h > 0 && spec.patch_w > 0, spec.who,
           ": patch embedding needs positive channels, hidden size and patch size");
  IA_CHECK(spec.image_h >= spec.patch_h && spec.image_w >= spec.patch_w, spec.who, ": image size ", spec.image_h, "x",
           spec.image_w, " is smaller than the patch size ", spec.patch_h, "x", spec.patch_w);
  PatchEmbeddings e;
  e.spec_ = spec;
  const int64_t K = spec.channels * spec.patch_h * spec.patch_w;
  Tensor w = proj.get("weight", {spec.hidden, spec.channels, spec.patch_h, spec.patch_w});
  Tensor b = proj.has("bias") ? proj.get("bias", {spec.hidden}) : Tensor();
  e.proj_ = Linear::from(w.reshape({spec.hidden, K}), b);
  if (cls_module) {
    Tensor c = cls_module->get(cls_name);
    IA_CHECK(c.numel() == spec.hidden, cls_module->checkpoint().file_of(cls_module->full(cls_name)), ": class token '",
             cls_module->full(cls_name), "' has shape ", shape_str(c.shape()), ", expected ", spec.hidden, " values");
    e.cls_ = c.reshape({spec.hidden});
  }
  if (pos_module) {
    Tensor p = pos_module->get(pos_name);
    const int64_t n = e.seq_len();
    IA_CHECK(p.numel() == n * spec.hidden, pos_module->checkpoint().file_of(pos_module->full(pos_name)),
             ": position embedding '", pos_module->full(pos_name), "' has shape ", shape_str(p.shape()), ", expected [", n,
             ", ", spec.hidden, "] for a ", spec.image_h, "x", spec.image_w, " image in ", spec.patch_h, "x", spec.patch_w,
             " patches");
    e.pos_ = p.reshape({n, spec.hidden});
  }
  return e;
}

Tensor PatchEmbeddings::project(const Tensor& pixel_values) const {
  const PatchEmbeddingSpec& s = spec_;
  IA_CHECK(pixel_values.rank() == 4, s.who, ": pixel_values must be [batch, channels, height, width], got ",
           shape_str(pixel_values.shape()));
  IA_CHECK(pixel_values.dim(1) == s.channels, s.who,
           ": the channel dimension of pixel_values does not match the configuration: expected ", s.channels, " but got ",
           pixel_values.dim(1));
  IA_CHECK(pixel_values.dim(2) == s.image_h && pixel_values.dim(3) == s.image_w, s.who, ": input image size (",
           pixel_values.dim(2), "*", pixel_values.dim(3), ") doesn't match model (", s.image_h, "*", s.image_w, ")");
  Tensor px = pixel_values.dtype() == DType::F32 ? pixel_values : pixel_values.to_f32();
  const int64_t B = px.dim(0), C = s.channels, H = s.image_h, W = s.image_w;
  const int64_t gh = grid_h(), gw = grid_w(), ph = s.patch_h, pw = s.patch_w, N = gh * gw;
  const int64_t K = C * ph * pw;
  // Gather patches: row (b, gy, gx) holds [c][i][j] like the conv weight.
  std::vector<float> rows(size_t(B * N * K));
  const float* src = px.f32();
#pragma omp parallel for collapse(2) schedule(static) if (B * N * K > 65536)
  for (int64_t b = 0; b < B; ++b)
    for (int64_t p = 0; p < N; ++p) {
      const int64_t gy = p / gw, gx = p % gw;
      float* dst = rows.data() + (b * N + p) * K;
      for (int64_t c = 0; c < C; ++c)
        for (int64_t i = 0; i < ph; ++i)
          std::memcpy(dst + (c * ph + i) * pw, src + ((b * C + c) * H + gy * ph + i) * W + gx * pw, size_t(pw) * 4);
    }
  Tensor out = Tensor::f32({B, N, s.hidden});
  proj_.forward(rows.data(), B * N, out.f32());
  return out;
}

Tensor PatchEmbeddings::forward(const Tensor& pixel_values) const {
  Tensor patches = project(pixel_values);
  const int64_t B = patches.dim(0), N = num_patches(), Hd = spec_.hidden, T = seq_len();
  const int64_t off = cls_.defined() ? 1 : 0;
  Tensor out = Tensor::f32({B, T, Hd});
  for (int64_t b = 0; b < B; ++b) {
    float* o = out.f32() + b * T * Hd;
    if (off) std::memcpy(o, cls_.f32(), size_t(Hd) * 4);
    std::memcpy(o + off * Hd, patches.f32() + b * N * Hd, size_t(N * Hd) * 4);
    if (pos_.defined()) cpu::add_inplace(o, pos_.f32(), T * Hd);
  }
  return out;
}

}  // namespace ia
