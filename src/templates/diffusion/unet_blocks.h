// The U-Net stages of diffusers unet_2d_blocks.py that Stable Diffusion uses:
// CrossAttnDownBlock2D / DownBlock2D (resnets [+ Transformer2D] then a stride-2 conv),
// UNetMidBlock2DCrossAttn / UNetMidBlock2D (resnet, [attention, resnet]...),
// CrossAttnUpBlock2D / UpBlock2D (skip concat + resnets [+ Transformer2D], then
// nearest upsampling + conv), and the VAE's DownEncoderBlock2D / UpDecoderBlock2D
// (the same stages without a time embedding).
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "parts/resample_2d.h"
#include "parts/resnet_block.h"
#include "parts/spatial_self_attention.h"
#include "parts/transformer_2d.h"

namespace ia::diffusion {

// Options shared by every stage of one model.
struct StageOptions {
  int64_t temb_channels = 0;  // 0: no time embedding (VAE)
  int64_t groups = 32;
  float eps = 1e-5f;
  cpu::Act act = cpu::Act::Silu;
  std::string time_embedding_norm = "default";
  double output_scale_factor = 1.0;
};

// Cross-attention options of one stage (absent for plain resnet stages).
struct CrossAttnOptions {
  int64_t heads = 1, cross_attention_dim = 0, transformer_layers = 1;
  bool use_linear_projection = false, only_cross_attention = false;
};

struct DownStage {
  std::vector<ResnetBlock2D> resnets;
  std::vector<Transformer2D> attentions;  // empty for DownBlock2D / DownEncoderBlock2D
  std::optional<Downsample2D> downsampler;

  static DownStage load(const Weights& w, int64_t in, int64_t out, int64_t layers, const StageOptions& o,
                        const std::optional<CrossAttnOptions>& xattn, bool add_downsample, int64_t downsample_padding);
  // Appends each resnet/attention output and the downsampled state to `skips` (when given).
  Tensor forward(const Tensor& x, const Tensor& temb, const Tensor& context, std::vector<Tensor>* skips) const;
};

struct MidStage {
  std::vector<ResnetBlock2D> resnets;           // resnets[0], then one after each attention
  std::vector<Transformer2D> cross_attentions;  // UNetMidBlock2DCrossAttn
  std::vector<SpatialSelfAttention> self_attentions;  // UNetMidBlock2D with add_attention

  static MidStage load_cross_attn(const Weights& w, int64_t channels, const StageOptions& o,
                                  const CrossAttnOptions& xattn);
  // UNetMidBlock2D: `num_layers` (attention +) resnet pairs after the first resnet; attention
  // head size `attention_head_dim` (heads = channels / it), GroupNorm groups `attn_groups` (0 = none).
  static MidStage load_plain(const Weights& w, int64_t channels, const StageOptions& o, int64_t num_layers,
                             bool add_attention, int64_t attention_head_dim, int64_t attn_groups);
  Tensor forward(const Tensor& x, const Tensor& temb, const Tensor& context) const;
};

struct UpStage {
  std::vector<ResnetBlock2D> resnets;
  std::vector<Transformer2D> attentions;
  std::optional<Upsample2D> upsampler;
  bool uses_skips = true;  // false for the VAE's UpDecoderBlock2D

  // U-Net up block: resnet i takes (prev_output or out) + skip channels.
  static UpStage load_unet(const Weights& w, int64_t in, int64_t prev_output, int64_t out, int64_t layers,
                           const StageOptions& o, const std::optional<CrossAttnOptions>& xattn, bool add_upsample);
  // VAE decoder block: no skips.
  static UpStage load_decoder(const Weights& w, int64_t in, int64_t out, int64_t layers, const StageOptions& o,
                              bool add_upsample);
  // Pops one skip per resnet from the back of `skips` (U-Net stages).
  Tensor forward(const Tensor& x, const Tensor& temb, const Tensor& context, std::vector<Tensor>* skips,
                 std::optional<std::pair<int64_t, int64_t>> upsample_size) const;
};

}  // namespace ia::diffusion
