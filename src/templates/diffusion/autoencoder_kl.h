// diffusers AutoencoderKL (the Stable Diffusion VAE) as a library object: loads a
// diffusers component directory (config.json with "_class_name": "AutoencoderKL" +
// diffusion_pytorch_model.safetensors); encode() maps images in [-1, 1] to the latent
// DiagonalGaussian, decode() maps latents back to images. Neither applies
// scaling_factor: pipelines multiply latents by it after encoding and divide before
// decoding, as diffusers does. Matches diffusers 0.30.3 in float32.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace ia {

class HFConfig;
class Checkpoint;

namespace diffusion {

struct AutoencoderKLConfig {
  int64_t in_channels = 3, out_channels = 3, latent_channels = 4;
  std::vector<std::string> down_block_types, up_block_types;
  std::vector<int64_t> block_out_channels;
  int64_t layers_per_block = 1;
  std::string act_fn = "silu";
  int64_t norm_num_groups = 32;
  int64_t sample_size = 32;
  double scaling_factor = 0.18215;
  std::optional<double> shift_factor;
  std::vector<double> latents_mean, latents_std;  // empty when null
  bool force_upcast = true;
  bool use_quant_conv = true, use_post_quant_conv = true;
  bool mid_block_add_attention = true;

  static AutoencoderKLConfig from(const HFConfig& cfg);
};

// DiagonalGaussianDistribution of the encoder: moments = cat(mean, logvar_raw) on channels.
struct LatentDistribution {
  Tensor moments;  // [B, 2*latent, h, w] (quant_conv output, or encoder output without quant_conv)
  Tensor mean;     // [B, latent, h, w]
  Tensor logvar;   // clamp(logvar_raw, -30, 20)
  Tensor std;      // exp(0.5 * logvar)
  // mean + std * noise (noise: standard normal of mean's shape, drawn by the caller).
  Tensor sample(const Tensor& noise) const;
  const Tensor& mode() const { return mean; }
};

class AutoencoderKL {
 public:
  static std::unique_ptr<AutoencoderKL> load(const std::string& dir);
  static std::unique_ptr<AutoencoderKL> load(const HFConfig& cfg, std::shared_ptr<const Checkpoint> ck);
  ~AutoencoderKL();

  const AutoencoderKLConfig& config() const;
  double scaling_factor() const { return config().scaling_factor; }
  // Spatial factor between images and latents: 2^(len(block_out_channels) - 1).
  int64_t vae_scale_factor() const;

  // image [B, in_channels, H, W] F32 in [-1, 1]. `intermediates` receives encoder_out
  // (the encoder's output before quant_conv).
  LatentDistribution encode(const Tensor& image, std::map<std::string, Tensor>* intermediates = nullptr) const;
  // latents [B, latent_channels, h, w] -> [B, out_channels, h*f, w*f]. `intermediates`
  // receives post_quant_conv, decoder.conv_in, decoder.mid_block, decoder.up_blocks.i.
  Tensor decode(const Tensor& latents, std::map<std::string, Tensor>* intermediates = nullptr) const;
  // AutoencoderKL.forward(sample_posterior=False): decode(encode(image).mean).
  Tensor forward(const Tensor& image) const;

  struct Impl;

 private:
  explicit AutoencoderKL(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace diffusion
}  // namespace ia
