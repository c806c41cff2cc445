#include "templates/blip/blip_vision.h"

#include <cstring>

#include "core/error.h"

namespace ia {

BlipVisionModel::BlipVisionModel(const BlipVisionParams& p, const Weights& w) : p_(p) {
  PatchEmbeddingSpec ps;
  ps.channels = 3;
  ps.hidden = p.hidden;
  ps.image_h = ps.image_w = p.image_size;
  ps.patch_h = ps.patch_w = p.patch_size;
  ps.who = "blip vision_model";
  Weights e = w.pp("embeddings");
  embeddings_ = PatchEmbeddings::load(ps, e.pp("patch_embedding"), &e, "class_embedding", &e, "position_embedding");
  VisionEncoderSpec es;
  es.hidden = p.hidden;
  es.heads = p.heads;
  es.intermediate = p.intermediate;
  es.layers = p.layers;
  es.eps = p.eps;
  es.act = cpu::act_from_name(p.act, "vision_config.hidden_act");
  es.who = "blip vision_model";
  VisionEncoderNames names;
  names.ln1 = "layer_norm1";
  names.ln2 = "layer_norm2";
  names.qkv = "self_attn.qkv";
  names.o = "self_attn.projection";
  names.fc1 = "mlp.fc1";
  names.fc2 = "mlp.fc2";
  encoder_ = VisionEncoder::load(es, w.pp("encoder").pp("layers"), names);
  post_ln_ = LayerNorm::load(w.pp("post_layernorm"), p.hidden, p.eps);
}

Tensor BlipVisionModel::forward(const Tensor& pixel_values) const {
  IA_CHECK(pixel_values.rank() == 4 && pixel_values.dim(1) == 3, "blip: pixel_values ",
           shape_str(pixel_values.shape()), " must be [B, 3, H, W]");
  Tensor x = embeddings_.forward(pixel_values.to_f32());  // [B, T, C]
  encoder_.forward(x);
  Tensor out = Tensor::f32(x.shape());
  post_ln_.forward(x.f32(), x.numel() / p_.hidden, out.f32());
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
