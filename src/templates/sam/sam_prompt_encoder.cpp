#include "templates/sam/sam_prompt_encoder.h"

#include <cmath>
#include <cstring>

#include "core/error.h"

namespace ia {

void SamPositionalEmbedding::encode(float x, float y, float* out) const {
  // The reference multiplies float32 coordinates by the Python double 2*pi, i.e. by float(2*pi).
  const float two_pi = float(2.0 * M_PI);
  const float cx = 2.f * x - 1.f, cy = 2.f * y - 1.f;
  const float* g = g_.f32();
  for (int64_t f = 0; f < feats_; ++f) {
    float v = cx * g[f] + cy * g[feats_ + f];
    v = two_pi * v;
    out[f] = std::sin(v);
    out[feats_ + f] = std::cos(v);
  }
}

Tensor SamPositionalEmbedding::grid(int64_t size) const {
  Tensor t = Tensor::f32({size * size, dim()});
  for (int64_t yi = 0; yi < size; ++yi)
    for (int64_t xi = 0; xi < size; ++xi)
      encode((float(xi + 1) - 0.5f) / float(size), (float(yi + 1) - 0.5f) / float(size),
             t.f32() + (yi * size + xi) * dim());
  return t;
}

SamPromptEncoder::SamPromptEncoder(const SamPromptParams& p, const SamPositionalEmbedding& pe, const Weights& w)
    : p_(p), pe_(pe), act_(cpu::act_from_name(p.act, "prompt_encoder_config.hidden_act")) {
  IA_CHECK(pe.dim() == p.hidden, "sam: positional embedding width ", pe.dim(), " != prompt hidden_size ", p.hidden);
  const int64_t mc = p.mask_input_channels / 4;
  Weights me = w.pp("mask_embed");
  Conv2dSpec s1;
  s1.in_channels = 1;
  s1.out_channels = mc;
  s1.kernel_h = s1.kernel_w = s1.stride_h = s1.stride_w = 2;
  mask_conv1_ = Conv2d::load(me.pp("conv1"), s1);
  Conv2dSpec s2 = s1;
  s2.in_channels = mc;
  s2.out_channels = p.mask_input_channels;
  mask_conv2_ = Conv2d::load(me.pp("conv2"), s2);
  Conv2dSpec s3;
  s3.in_channels = p.mask_input_channels;
  s3.out_channels = p.hidden;
  mask_conv3_ = Conv2d::load(me.pp("conv3"), s3);
  mask_ln1_ = ChannelsFirstLayerNorm::load(me.pp("layer_norm1"), mc, p.eps);
  mask_ln2_ = ChannelsFirstLayerNorm::load(me.pp("layer_norm2"), mc * 4, p.eps);
  no_mask_embed_ = w.pp("no_mask_embed").get("weight", {1, p.hidden});
  not_a_point_embed_ = w.pp("not_a_point_embed").get("weight", {1, p.hidden});
  for (int64_t i = 0; i < p.num_point_embeddings; ++i)
    point_embed_.push_back(w.pp("point_embed").pp(i).get("weight", {1, p.hidden}));
}

void SamPromptEncoder::embed_points(const Tensor& points, const Tensor& labels, bool pad, float* out) const {
  const int64_t B = points.dim(0), P = points.dim(1), N = points.dim(2), H = p_.hidden;
  const int64_t Np = N + (pad ? 1 : 0);
  const float size = float(p_.image_size);
  Tensor pts = points.to_f32(), lab = labels.to_i64();
  for (int64_t bp = 0; bp < B * P; ++bp)
    for (int64_t n = 0; n < Np; ++n) {
      float* o = out + (bp * Np + n) * H;
      float x = 0.f, y = 0.f;
      int64_t label = -1;  // the padding point (0, 0) appended when no box is given
      if (n < N) {
        x = pts.f32()[(bp * N + n) * 2] + 0.5f;  // shift to the pixel centre
        y = pts.f32()[(bp * N + n) * 2 + 1] + 0.5f;
        label = lab.i64()[bp * N + n];
      }
      if (label == -1) {
        std::memcpy(o, not_a_point_embed_.f32(), size_t(H) * sizeof(float));
        continue;
      }
      if (label == -10) {
        std::memset(o, 0, size_t(H) * sizeof(float));
        continue;
      }
      pe_.encode(x / size, y / size, o);
      if (label == 0) cpu::add_inplace(o, point_embed_[0].f32(), H);
      if (label == 1) cpu::add_inplace(o, point_embed_[1].f32(), H);
    }
}

void SamPromptEncoder::embed_boxes(const Tensor& boxes, float* out) const {
  const int64_t B = boxes.dim(0), nb = boxes.dim(1), H = p_.hidden;
  const float size = float(p_.image_size);
  Tensor bx = boxes.to_f32();
  for (int64_t i = 0; i < B * nb; ++i) {
    const float* b = bx.f32() + i * 4;
    for (int64_t corner = 0; corner < 2; ++corner) {
      float* o = out + (i * 2 + corner) * H;
      pe_.encode((b[2 * corner] + 0.5f) / size, (b[2 * corner + 1] + 0.5f) / size, o);
      cpu::add_inplace(o, point_embed_[size_t(2 + corner)].f32(), H);
    }
  }
}

Tensor SamPromptEncoder::embed_masks(const Tensor& masks) const {
  Tensor h = mask_conv1_.forward(masks.to_f32());
  mask_ln1_.forward_inplace(h);
  cpu::apply_act(act_, h.f32(), h.numel());
  h = mask_conv2_.forward(h);
  mask_ln2_.forward_inplace(h);
  cpu::apply_act(act_, h.f32(), h.numel());
  return mask_conv3_.forward(h);
}

SamPromptEmbeddings SamPromptEncoder::forward(const SamPromptInputs& in) const {
  const int64_t H = p_.hidden, S = p_.embedding_size();
  int64_t B = 1;
  SamPromptEmbeddings r;
  if (in.points) {
    const Tensor& pts = *in.points;
    IA_CHECK(pts.rank() == 4 && pts.dim(3) == 2, "sam: input_points ", shape_str(pts.shape()),
             " must be [batch, point_batch, points, 2]");
    IA_CHECK(in.labels, "sam: input_points given without input_labels");
    IA_CHECK(in.labels->shape() == Shape({pts.dim(0), pts.dim(1), pts.dim(2)}), "sam: input_labels ",
             shape_str(in.labels->shape()), " must be ", shape_str({pts.dim(0), pts.dim(1), pts.dim(2)}));
    B = pts.dim(0);
  }
  if (in.boxes) {
    IA_CHECK(in.boxes->rank() == 3 && in.boxes->dim(2) == 4, "sam: input_boxes ", shape_str(in.boxes->shape()),
             " must be [batch, boxes, 4]");
    if (in.points) {
      IA_CHECK(in.boxes->dim(0) == B && in.boxes->dim(1) == in.points->dim(1), "sam: ", in.boxes->dim(1),
               " boxes for ", in.points->dim(1), " point batches (they must match, batch ", B, ")");
    }
    B = in.boxes->dim(0);
  }
  const bool pad = in.boxes == nullptr;
  if (in.points || in.boxes) {
    const int64_t P = in.points ? in.points->dim(1) : in.boxes->dim(1);
    const int64_t Np = in.points ? in.points->dim(2) + (pad ? 1 : 0) : 0;
    const int64_t N = Np + (in.boxes ? 2 : 0);
    r.sparse = Tensor::f32({B, P, N, H});
    Tensor pts_part, box_part;
    if (in.points) {
      pts_part = Tensor::f32({B, P, Np, H});
      embed_points(*in.points, *in.labels, pad, pts_part.f32());
    }
    if (in.boxes) {
      box_part = Tensor::f32({B, P, 2, H});
      embed_boxes(*in.boxes, box_part.f32());
    }
    for (int64_t bp = 0; bp < B * P; ++bp) {
      float* o = r.sparse.f32() + bp * N * H;
      if (in.points) std::memcpy(o, pts_part.f32() + bp * Np * H, size_t(Np * H) * sizeof(float));
      if (in.boxes) std::memcpy(o + Np * H, box_part.f32() + bp * 2 * H, size_t(2 * H) * sizeof(float));
    }
  } else {
    r.sparse = Tensor::zeros(DType::F32, {B, 1, 1, H});
  }
  if (in.masks) {
    const Tensor& m = *in.masks;
    IA_CHECK(m.rank() == 4 && m.dim(1) == 1 && m.dim(2) == 4 * S && m.dim(3) == 4 * S, "sam: input_masks ",
             shape_str(m.shape()), " must be [batch, 1, ", 4 * S, ", ", 4 * S, "]");
    r.dense = embed_masks(m);
  } else {
    r.dense = Tensor::f32({1, H, S, S});
    for (int64_t c = 0; c < H; ++c)
      for (int64_t i = 0; i < S * S; ++i) r.dense.f32()[c * S * S + i] = no_mask_embed_.f32()[c];
  }
  return r;
}

}  // namespace ia
