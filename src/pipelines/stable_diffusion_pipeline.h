// The Stable Diffusion pipelines of diffusers 0.30.3 over a pipeline directory
// (model_index.json + tokenizer/ text_encoder/ unet/ vae/ scheduler/):
// text-to-image (StableDiffusionPipeline), image-to-image
// (StableDiffusionImg2ImgPipeline) and inpainting (StableDiffusionInpaintPipeline,
// 9-channel or legacy 4-channel UNet). Classifier-free guidance runs the UNet on a
// batch of [negative, positive]. Every random draw goes through SdRequest::draw so
// callers can replay a reference's noise; by default a torch-like seeded generator.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "diffusion_schedulers/scheduler.h"
#include "preprocess/image.h"

namespace ia {

class PromptTokenizer;
class ClipTextTower;
namespace diffusion {
class DiffusionUNet;
class AutoencoderKL;
}  // namespace diffusion

enum class SdTask { TextToImage, ImageToImage, Inpainting };
SdTask sd_task_from_name(const std::string& name);  // "text-to-image", "image-to-image", "inpainting"
const char* sd_task_name(SdTask t);

// Draws standard normal noise; `purpose` is "latents", "vae" (posterior sample),
// "noise" (img2img / inpainting add_noise) or "step" (scheduler draws).
using SdNoiseFn = std::function<Tensor(const Shape& shape, const std::string& purpose)>;

struct SdRequest {
  SdTask task = SdTask::TextToImage;
  std::string prompt;
  std::string negative_prompt;  // "" = the unconditional (empty) prompt
  int num_inference_steps = 50;
  double guidance_scale = 7.5;
  double guidance_rescale = 0.0;
  double eta = 0.0;  // DDIM only (ignored by the others, as diffusers does)
  double strength = -1;  // < 0: the task's default (0.8 image-to-image, 1.0 inpainting)
  int64_t height = 0, width = 0;  // 0: the task's default
  uint64_t seed = 0;
  std::string scheduler_class;  // "" = the pipeline's own; else <Class>.from_config(scheduler config)
  Tensor latents;               // text-to-image / inpainting: initial latents (before init_noise_sigma)
  Image image, mask;            // image-to-image / inpainting inputs
  SdNoiseFn draw;               // default: TorchLikeGenerator(seed)
};

// What the reference fixtures check, captured when requested.
struct SdTrace {
  std::vector<int64_t> prompt_ids, negative_ids;
  Tensor prompt_embeds, negative_embeds;
  Tensor timesteps;  // I64 or F32 as the scheduler keeps them
  std::vector<Tensor> unet_input, unet_output, step_latents;
  Tensor preprocessed_image, preprocessed_mask, mask_latent, masked_image_latents;
  Tensor decoded;
};

struct SdResult {
  Tensor image;    // [1, H, W, 3] float in [0, 1] (output_type="np")
  Image image_u8;  // the PIL image
  int64_t height = 0, width = 0;
  int unet_calls = 0;
  std::string scheduler;
  float init_noise_sigma = 1.0f;
};

class StableDiffusionPipeline {
 public:
  static std::unique_ptr<StableDiffusionPipeline> load(const std::string& dir);
  ~StableDiffusionPipeline();

  const std::string& class_name() const { return class_name_; }
  const std::string& dir() const { return dir_; }
  int64_t vae_scale_factor() const;
  int64_t unet_in_channels() const;
  bool supports(SdTask t) const;

  SdResult run(const SdRequest& req, SdTrace* trace = nullptr) const;

 private:
  StableDiffusionPipeline() = default;
  struct Prompt;
  void encode_prompt(const SdRequest& req, bool cfg, Tensor* embeds, SdTrace* trace) const;
  std::unique_ptr<diffusion::Scheduler> make_scheduler(const SdRequest& req) const;
  Tensor encode_image(const Tensor& image, const SdNoiseFn& draw) const;
  Tensor unet_step(const Tensor& latents_in, const Tensor& embeds, double t, const SdRequest& req,
                   diffusion::Scheduler& sched, const Tensor* mask, const Tensor* masked_latents, bool cfg,
                   SdTrace* trace) const;

  std::string dir_, class_name_;
  std::unique_ptr<PromptTokenizer> tokenizer_;
  std::unique_ptr<ClipTextTower> text_encoder_;
  bool text_use_attention_mask_ = false;
  std::unique_ptr<diffusion::DiffusionUNet> unet_;
  std::unique_ptr<diffusion::AutoencoderKL> vae_;
  std::string scheduler_config_path_;
};

}  // namespace ia
