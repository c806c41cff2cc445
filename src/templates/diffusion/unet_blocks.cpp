#include "templates/diffusion/unet_blocks.h"

#include "core/error.h"
#include "parts/nchw_layout.h"

namespace ia::diffusion {

namespace {

ResnetBlock2D load_resnet(const Weights& w, int64_t in, int64_t out, const StageOptions& o) {
  ResnetBlock2DSpec s;
  s.in_channels = in;
  s.out_channels = out;
  s.temb_channels = o.temb_channels;
  s.groups = o.groups;
  s.eps = o.eps;
  s.act = o.act;
  s.time_embedding_norm = o.time_embedding_norm;
  s.output_scale_factor = o.output_scale_factor;
  return ResnetBlock2D::load(w, s);
}

Transformer2D load_transformer(const Weights& w, int64_t channels, const StageOptions& o, const CrossAttnOptions& x,
                               bool only_cross_attention) {
  IA_CHECK(x.heads > 0 && channels % x.heads == 0, w.prefix(), ": ", x.heads,
           " attention heads (config attention_head_dim) do not divide ", channels, " channels");
  Transformer2DSpec s;
  s.in_channels = channels;
  s.heads = x.heads;
  s.head_dim = channels / x.heads;
  s.num_layers = x.transformer_layers;
  s.cross_attention_dim = x.cross_attention_dim;
  s.norm_num_groups = o.groups;
  s.use_linear_projection = x.use_linear_projection;
  s.only_cross_attention = only_cross_attention;
  return Transformer2D::load(w, s);
}

}  // namespace

DownStage DownStage::load(const Weights& w, int64_t in, int64_t out, int64_t layers, const StageOptions& o,
                          const std::optional<CrossAttnOptions>& xattn, bool add_downsample,
                          int64_t downsample_padding) {
  IA_CHECK(layers > 0, w.prefix(), ": layers_per_block must be positive");
  DownStage d;
  for (int64_t i = 0; i < layers; ++i) {
    d.resnets.push_back(load_resnet(w.pp("resnets").pp(i), i == 0 ? in : out, out, o));
    if (xattn) d.attentions.push_back(load_transformer(w.pp("attentions").pp(i), out, o, *xattn, xattn->only_cross_attention));
  }
  if (add_downsample) d.downsampler = Downsample2D::load(w.pp("downsamplers").pp(0), out, out, true, downsample_padding);
  return d;
}

Tensor DownStage::forward(const Tensor& x, const Tensor& temb, const Tensor& context, std::vector<Tensor>* skips) const {
  Tensor h = x;
  for (size_t i = 0; i < resnets.size(); ++i) {
    h = resnets[i].forward(h, temb);
    if (!attentions.empty()) h = attentions[i].forward(h, context);
    if (skips) skips->push_back(h);
  }
  if (downsampler) {
    h = downsampler->forward(h);
    if (skips) skips->push_back(h);
  }
  return h;
}

MidStage MidStage::load_cross_attn(const Weights& w, int64_t channels, const StageOptions& o,
                                   const CrossAttnOptions& xattn) {
  MidStage m;
  m.resnets.push_back(load_resnet(w.pp("resnets").pp(0), channels, channels, o));
  // UNetMidBlock2DCrossAttn never passes only_cross_attention to its transformer.
  m.cross_attentions.push_back(load_transformer(w.pp("attentions").pp(0), channels, o, xattn, false));
  m.resnets.push_back(load_resnet(w.pp("resnets").pp(1), channels, channels, o));
  return m;
}

MidStage MidStage::load_plain(const Weights& w, int64_t channels, const StageOptions& o, int64_t num_layers,
                              bool add_attention, int64_t attention_head_dim, int64_t attn_groups) {
  MidStage m;
  m.resnets.push_back(load_resnet(w.pp("resnets").pp(0), channels, channels, o));
  for (int64_t i = 0; i < num_layers; ++i) {
    if (add_attention)
      m.self_attentions.push_back(SpatialSelfAttention::load(w.pp("attentions").pp(i), channels, attention_head_dim,
                                                             attn_groups, o.eps, o.output_scale_factor));
    m.resnets.push_back(load_resnet(w.pp("resnets").pp(i + 1), channels, channels, o));
  }
  return m;
}

Tensor MidStage::forward(const Tensor& x, const Tensor& temb, const Tensor& context) const {
  Tensor h = resnets[0].forward(x, temb);
  for (size_t i = 1; i < resnets.size(); ++i) {
    if (!cross_attentions.empty()) h = cross_attentions[i - 1].forward(h, context);
    else if (!self_attentions.empty()) h = self_attentions[i - 1].forward(h);
    h = resnets[i].forward(h, temb);
  }
  return h;
}

UpStage UpStage::load_unet(const Weights& w, int64_t in, int64_t prev_output, int64_t out, int64_t layers,
                           const StageOptions& o, const std::optional<CrossAttnOptions>& xattn, bool add_upsample) {
  IA_CHECK(layers > 0, w.prefix(), ": up block needs at least one layer");
  UpStage u;
  for (int64_t i = 0; i < layers; ++i) {
    const int64_t skip = i == layers - 1 ? in : out;
    const int64_t res_in = i == 0 ? prev_output : out;
    u.resnets.push_back(load_resnet(w.pp("resnets").pp(i), res_in + skip, out, o));
    if (xattn) u.attentions.push_back(load_transformer(w.pp("attentions").pp(i), out, o, *xattn, xattn->only_cross_attention));
  }
  if (add_upsample) u.upsampler = Upsample2D::load(w.pp("upsamplers").pp(0), out, out, true);
  return u;
}

UpStage UpStage::load_decoder(const Weights& w, int64_t in, int64_t out, int64_t layers, const StageOptions& o,
                              bool add_upsample) {
  UpStage u;
  u.uses_skips = false;
  for (int64_t i = 0; i < layers; ++i) u.resnets.push_back(load_resnet(w.pp("resnets").pp(i), i == 0 ? in : out, out, o));
  if (add_upsample) u.upsampler = Upsample2D::load(w.pp("upsamplers").pp(0), out, out, true);
  return u;
}

Tensor UpStage::forward(const Tensor& x, const Tensor& temb, const Tensor& context, std::vector<Tensor>* skips,
                        std::optional<std::pair<int64_t, int64_t>> upsample_size) const {
  Tensor h = x;
  for (size_t i = 0; i < resnets.size(); ++i) {
    if (uses_skips) {
      IA_CHECK(skips && !skips->empty(), "U-Net up block: ran out of skip connections");
      Tensor s = std::move(skips->back());
      skips->pop_back();
      h = concat_channels(h, s);
    }
    h = resnets[i].forward(h, temb);
    if (!attentions.empty()) h = attentions[i].forward(h, context);
  }
  if (upsampler) h = upsampler->forward(h, upsample_size);
  return h;
}

}  // namespace ia::diffusion
