// diffusers UNet2DConditionModel (Stable Diffusion 1.x / 2.x denoiser) as a library
// object: loads a diffusers component directory (config.json with
// "_class_name": "UNet2DConditionModel" + diffusion_pytorch_model.safetensors) and
// predicts the noise (or v) for a latent sample at a timestep, conditioned on text
// encoder hidden states. Matches diffusers 0.30.3 in float32.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace ia {

class HFConfig;
class Checkpoint;

namespace diffusion {

// The config options this implementation honours (everything else that would change
// the computation is rejected at load with an Unsupported error naming the key).
struct UNet2DConditionConfig {
  int64_t in_channels = 4, out_channels = 4;
  int64_t sample_size = 0;  // 0 when the config has none
  bool center_input_sample = false;
  bool flip_sin_to_cos = true;
  double freq_shift = 0;
  std::vector<std::string> down_block_types, up_block_types;
  std::string mid_block_type = "UNetMidBlock2DCrossAttn";  // or "" (no mid block)
  std::vector<int64_t> block_out_channels;
  std::vector<int64_t> layers_per_block;              // per down block
  std::vector<int64_t> transformer_layers_per_block;  // per down block
  std::vector<int64_t> num_attention_heads;           // per down block (diffusers' legacy attention_head_dim)
  std::vector<int64_t> cross_attention_dim;           // per down block
  std::vector<bool> only_cross_attention;             // per down block
  int64_t downsample_padding = 1;
  double mid_block_scale_factor = 1.0;
  std::string act_fn = "silu";
  int64_t norm_num_groups = 32;
  double norm_eps = 1e-5;
  bool use_linear_projection = false;
  bool upcast_attention = false;  // no effect in float32
  std::string resnet_time_scale_shift = "default";  // or "scale_shift"
  std::string time_embedding_type = "positional";  // or "fourier" (GaussianFourierProjection)
  int64_t time_embed_dim = 0;      // time_embedding_dim, else 4 (positional) / 2 (fourier) * block_out_channels[0]
  std::string time_embedding_act_fn;  // "" = none
  std::string timestep_post_act;      // "" = none
  int64_t conv_in_kernel = 3, conv_out_kernel = 3;
  int64_t time_cond_proj_dim = 0;  // > 0: forward() accepts a timestep_cond [B, time_cond_proj_dim]

  static UNet2DConditionConfig from(const HFConfig& cfg);
};

class DiffusionUNet {
 public:
  // `dir` holds config.json and diffusion_pytorch_model.safetensors (or .bin-free sharded index).
  static std::unique_ptr<DiffusionUNet> load(const std::string& dir);
  static std::unique_ptr<DiffusionUNet> load(const HFConfig& cfg, std::shared_ptr<const Checkpoint> ck);
  ~DiffusionUNet();

  const UNet2DConditionConfig& config() const;

  // sample [B, in_channels, H, W] F32; timestep: a scalar (0-d), [1] or [B] tensor, F32 or I64
  // (integer timesteps are cast to float32 as diffusers does); encoder_hidden_states
  // [B, S, cross_attention_dim]. Returns the model output [B, out_channels, H, W].
  // When `intermediates` is given it receives the submodule outputs the reference fixtures
  // name: time_proj, time_embedding, conv_in, down_blocks.i, mid_block, up_blocks.i.
  // `timestep_cond` (optional, models with time_cond_proj_dim) is added to the time projection.
  Tensor forward(const Tensor& sample, const Tensor& timestep, const Tensor& encoder_hidden_states,
                 std::map<std::string, Tensor>* intermediates = nullptr, const Tensor& timestep_cond = Tensor()) const;
  // Same with one timestep for the whole batch (a Python float / int in diffusers).
  Tensor forward(const Tensor& sample, double timestep, const Tensor& encoder_hidden_states) const;

  struct Impl;

 private:
  explicit DiffusionUNet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace diffusion
}  // namespace ia
