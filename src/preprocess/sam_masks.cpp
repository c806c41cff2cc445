// SamImageProcessor.post_process_masks: torch.nn.functional.interpolate
// (bilinear, align_corners=False, as PyTorch's CPU kernel computes indices and
// weights in float) to pad_size, crop to the resized image, interpolate to the
// original size, optionally threshold.
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "preprocess/image_processor.h"

namespace ia {

namespace {

struct Taps {
  std::vector<int64_t> i0, i1;
  std::vector<float> w0, w1;
};

Taps linear_taps(int64_t in, int64_t out) {
  Taps t;
  t.i0.resize(out), t.i1.resize(out), t.w0.resize(out), t.w1.resize(out);
  const float scale = float(in) / float(out);
  for (int64_t o = 0; o < out; ++o) {
    if (in == out) {
      t.i0[o] = t.i1[o] = o, t.w0[o] = 1.0f, t.w1[o] = 0.0f;
      continue;
    }
    float src = scale * (float(o) + 0.5f) - 0.5f;
    if (src < 0) src = 0;
    const int64_t i0 = std::min<int64_t>(int64_t(src), in - 1);
    const float l1 = std::min(std::max(src - float(i0), 0.0f), 1.0f);
    t.i0[o] = i0, t.i1[o] = i0 + (i0 < in - 1 ? 1 : 0), t.w1[o] = l1, t.w0[o] = 1.0f - l1;
  }
  return t;
}

// planes x [ih, iw] (reading only the top-left crop_h x crop_w of each plane) -> planes x [oh, ow].
std::vector<float> bilinear(const float* src, int64_t planes, int64_t ih, int64_t iw, int64_t crop_h, int64_t crop_w,
                            int64_t oh, int64_t ow) {
  const Taps ty = linear_taps(crop_h, oh), tx = linear_taps(crop_w, ow);
  std::vector<float> out(size_t(planes * oh * ow));
  for (int64_t p = 0; p < planes; ++p) {
    const float* s = src + p * ih * iw;
    float* d = out.data() + p * oh * ow;
    for (int64_t y = 0; y < oh; ++y) {
      const float* r0 = s + ty.i0[y] * iw;
      const float* r1 = s + ty.i1[y] * iw;
      for (int64_t x = 0; x < ow; ++x) {
        const int64_t a = tx.i0[x], b = tx.i1[x];
        d[y * ow + x] = ty.w0[y] * (tx.w0[x] * r0[a] + tx.w1[x] * r0[b]) + ty.w1[y] * (tx.w0[x] * r1[a] + tx.w1[x] * r1[b]);
      }
    }
  }
  return out;
}

}  // namespace

Tensor ImageProcessor::sam_post_process_masks(const Tensor& masks, int64_t original_h, int64_t original_w,
                                              int64_t reshaped_h, int64_t reshaped_w, bool binarize,
                                              float mask_threshold) const {
  IA_CHECK(masks.defined() && masks.rank() >= 2, label_, ": post_process_masks needs masks [..., h, w]");
  IA_CHECK(original_h > 0 && original_w > 0 && original_h * original_w <= kMaxImagePixels, label_,
           ": post_process_masks: invalid original size ", original_w, "x", original_h);
  const int64_t pad_h = pad_h_ > 0 ? pad_h_ : 1024, pad_w = pad_w_ > 0 ? pad_w_ : 1024;
  IA_CHECK(reshaped_h > 0 && reshaped_w > 0 && reshaped_h <= pad_h && reshaped_w <= pad_w, label_,
           ": post_process_masks: reshaped size ", reshaped_w, "x", reshaped_h, " must fit in pad_size ", pad_w, "x",
           pad_h);
  const Tensor m = masks.to_f32();
  const int64_t h = m.dim(-2), w = m.dim(-1);
  IA_CHECK(h > 0 && w > 0, label_, ": post_process_masks: empty masks");
  const int64_t planes = m.numel() / (h * w);
  const std::vector<float> up = bilinear(m.f32(), planes, h, w, h, w, pad_h, pad_w);
  const std::vector<float> back = bilinear(up.data(), planes, pad_h, pad_w, reshaped_h, reshaped_w, original_h, original_w);
  Shape shape = m.shape();
  shape[shape.size() - 2] = original_h;
  shape[shape.size() - 1] = original_w;
  Tensor out = Tensor::f32(shape);
  float* o = out.f32();
  for (size_t i = 0; i < back.size(); ++i) o[i] = binarize ? (back[i] > mask_threshold ? 1.0f : 0.0f) : back[i];
  return out;
}

}  // namespace ia
