#include "pipelines/stable_diffusion_pipeline.h"

#include <cmath>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "formats/checkpoint.h"
#include "formats/hf_config.h"
#include "parts/weights.h"
#include "pipelines/stable_diffusion_generator.h"
#include "pipelines/stable_diffusion_image.h"
#include "pipelines/stable_diffusion_tokenizer.h"
#include "templates/diffusion/autoencoder_kl.h"
#include "templates/diffusion/unet_2d_condition.h"
#include "templates/vision_text/clip_towers.h"

namespace ia {

namespace fs = std::filesystem;
using diffusion::Scheduler;

SdTask sd_task_from_name(const std::string& n) {
  if (n == "text-to-image") return SdTask::TextToImage;
  if (n == "image-to-image") return SdTask::ImageToImage;
  if (n == "inpainting" || n == "image-inpainting") return SdTask::Inpainting;
  fail("task '", n, "' is not a Stable Diffusion task (text-to-image, image-to-image, inpainting)");
}

const char* sd_task_name(SdTask t) {
  switch (t) {
    case SdTask::TextToImage: return "text-to-image";
    case SdTask::ImageToImage: return "image-to-image";
    case SdTask::Inpainting: return "inpainting";
  }
  return "?";
}

namespace {

// Element-wise helpers over F32 tensors.
Tensor scaled(const Tensor& x, float s) {
  Tensor o = Tensor::f32(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) o.f32()[i] = x.f32()[i] * s;
  return o;
}

// torch.cat(parts, dim=1) of [B, Ci, H, W] tensors.
Tensor cat_channels(const std::vector<const Tensor*>& parts) {
  const int64_t B = parts[0]->dim(0), H = parts[0]->dim(2), W = parts[0]->dim(3);
  int64_t C = 0;
  for (const Tensor* p : parts) {
    IA_CHECK(p->rank() == 4 && p->dim(0) == B && p->dim(2) == H && p->dim(3) == W, "cannot concatenate ",
             shape_str(p->shape()), " with ", shape_str(parts[0]->shape()), " on channels");
    C += p->dim(1);
  }
  Tensor out = Tensor::f32({B, C, H, W});
  const int64_t hw = H * W;
  for (int64_t b = 0; b < B; ++b) {
    int64_t c0 = 0;
    for (const Tensor* p : parts) {
      const int64_t c = p->dim(1);
      std::memcpy(out.f32() + (b * C + c0) * hw, p->f32() + b * c * hw, size_t(c * hw) * 4);
      c0 += c;
    }
  }
  return out;
}

// torch.cat([x] * n) along the batch.
Tensor repeat_batch(const Tensor& x, int64_t n) {
  Shape sh = x.shape();
  sh[0] *= n;
  Tensor out = Tensor::f32(sh);
  for (int64_t i = 0; i < n; ++i) std::memcpy(out.f32() + i * x.numel(), x.f32(), x.nbytes());
  return out;
}

// The standard deviation over every dim but the batch (torch.std, unbiased), per row.
std::vector<double> row_std(const float* p, int64_t rows, int64_t per) {
  std::vector<double> s(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0;
    for (int64_t i = 0; i < per; ++i) mean += p[r * per + i];
    mean /= double(per);
    double v = 0;
    for (int64_t i = 0; i < per; ++i) v += (p[r * per + i] - mean) * (p[r * per + i] - mean);
    s[size_t(r)] = std::sqrt(v / double(std::max<int64_t>(per - 1, 1)));
  }
  return s;
}

}  // namespace

StableDiffusionPipeline::~StableDiffusionPipeline() = default;

std::unique_ptr<StableDiffusionPipeline> StableDiffusionPipeline::load(const std::string& dir) {
  const fs::path d(dir);
  IA_CHECK(fs::exists(d / "model_index.json"), dir, ": not a diffusers pipeline directory (no model_index.json)");
  const HFConfig index = HFConfig::load((d / "model_index.json").string());
  IA_CHECK(index.has("_class_name"), index.label(), ": missing field _class_name");
  std::unique_ptr<StableDiffusionPipeline> p(new StableDiffusionPipeline());
  p->dir_ = dir;
  p->class_name_ = index.get_string("_class_name");
  static const std::vector<std::string> known = {"StableDiffusionPipeline", "StableDiffusionImg2ImgPipeline",
                                                 "StableDiffusionInpaintPipeline"};
  if (std::find(known.begin(), known.end(), p->class_name_) == known.end())
    throw Unsupported(cat(index.label(), ": pipeline class '", p->class_name_,
                          "' is not supported (supported: StableDiffusionPipeline, StableDiffusionImg2ImgPipeline, "
                          "StableDiffusionInpaintPipeline)"));
  // Every component the Stable Diffusion pipelines need must be present.
  for (const char* comp : {"tokenizer", "text_encoder", "unet", "vae", "scheduler"}) {
    IA_CHECK(index.has(comp), index.label(), ": missing component entry '", comp, "'");
    IA_CHECK(fs::is_directory(d / comp), dir, ": component directory '", comp, "/' is missing");
  }
  const auto& te = index.raw()["text_encoder"];
  if (te.is_array() && te.size() == 2 && te[1].is_string() && te[1] != "CLIPTextModel")
    throw Unsupported(cat(index.label(), ": text_encoder class '", te[1].get<std::string>(),
                          "' is not supported (CLIPTextModel)"));
  p->tokenizer_ = std::make_unique<PromptTokenizer>(PromptTokenizer::load((d / "tokenizer").string()));
  {
    const fs::path te_dir = d / "text_encoder";
    const HFConfig tc = HFConfig::load((te_dir / "config.json").string());
    p->text_use_attention_mask_ = tc.get_bool("use_attention_mask", false);
    auto ck = Checkpoint::open_dir(te_dir.string());
    p->text_encoder_ = std::make_unique<ClipTextTower>(ClipTextTower::load(tc, Weights(ck).pp("text_model")));
  }
  p->unet_ = diffusion::DiffusionUNet::load((d / "unet").string());
  p->vae_ = diffusion::AutoencoderKL::load((d / "vae").string());
  p->scheduler_config_path_ = (d / "scheduler" / "scheduler_config.json").string();
  IA_CHECK(fs::exists(p->scheduler_config_path_), p->scheduler_config_path_, ": missing");
  (void)p->make_scheduler(SdRequest{});  // fail at load on an unknown scheduler class
  return p;
}

int64_t StableDiffusionPipeline::vae_scale_factor() const { return vae_->vae_scale_factor(); }
int64_t StableDiffusionPipeline::unet_in_channels() const { return unet_->config().in_channels; }

bool StableDiffusionPipeline::supports(SdTask t) const {
  const int64_t in = unet_in_channels();
  if (t == SdTask::Inpainting) return in == 9 || in == 4;
  return in == vae_->config().latent_channels;
}

std::unique_ptr<Scheduler> StableDiffusionPipeline::make_scheduler(const SdRequest& req) const {
  const HFConfig cfg = HFConfig::load(scheduler_config_path_);
  if (req.scheduler_class.empty()) return diffusion::make_scheduler(cfg);
  return diffusion::make_scheduler(req.scheduler_class, cfg);
}

// encode_prompt: prompt (and, under guidance, negative prompt) -> CLIP last hidden
// states, stacked [negative, positive] when `cfg`.
void StableDiffusionPipeline::encode_prompt(const SdRequest& req, bool cfg, Tensor* embeds, SdTrace* trace) const {
  const int64_t L = tokenizer_->model_max_length();
  IA_CHECK(L <= text_encoder_->max_positions(), "tokenizer model_max_length ", L, " exceeds the text encoder's ",
           text_encoder_->max_positions(), " positions");
  std::vector<std::vector<int64_t>> rows;
  std::vector<std::vector<int64_t>> masks;
  if (cfg) rows.push_back(tokenizer_->encode_padded(req.negative_prompt, L, &masks.emplace_back()));
  rows.push_back(tokenizer_->encode_padded(req.prompt, L, &masks.emplace_back()));
  std::vector<int64_t> flat, flat_mask;
  for (size_t i = 0; i < rows.size(); ++i) {
    flat.insert(flat.end(), rows[i].begin(), rows[i].end());
    flat_mask.insert(flat_mask.end(), masks[i].begin(), masks[i].end());
  }
  const int64_t B = int64_t(rows.size());
  const Tensor ids = Tensor::from_vector_i64(flat, {B, L});
  const Tensor mask = Tensor::from_vector_i64(flat_mask, {B, L});
  Tensor hidden;
  text_encoder_->forward(ids, text_use_attention_mask_ ? &mask : nullptr, nullptr, &hidden, nullptr);
  *embeds = hidden;
  if (trace) {
    const int64_t per = L * hidden.dim(2);
    trace->prompt_ids = rows.back();
    trace->prompt_embeds = Tensor::f32({1, L, hidden.dim(2)});
    std::memcpy(trace->prompt_embeds.f32(), hidden.f32() + (B - 1) * per, size_t(per) * 4);
    if (cfg) {
      trace->negative_ids = rows.front();
      trace->negative_embeds = Tensor::f32({1, L, hidden.dim(2)});
      std::memcpy(trace->negative_embeds.f32(), hidden.f32(), size_t(per) * 4);
    }
  }
}

// _encode_vae_image: scaling_factor * posterior sample (noise drawn as "vae").
Tensor StableDiffusionPipeline::encode_image(const Tensor& image, const SdNoiseFn& draw) const {
  const diffusion::LatentDistribution dist = vae_->encode(image);
  const Tensor noise = draw(dist.mean.shape(), "vae");
  IA_CHECK(noise.shape() == dist.mean.shape(), "VAE posterior noise has shape ", shape_str(noise.shape()),
           ", expected ", shape_str(dist.mean.shape()));
  return scaled(dist.sample(noise.to_f32()), float(vae_->scaling_factor()));
}

// One denoising step: (CFG batch) -> scale_model_input -> [+ mask channels] -> UNet ->
// guidance -> scheduler.step. Returns the new latents.
Tensor StableDiffusionPipeline::unet_step(const Tensor& latents, const Tensor& embeds, double t, const SdRequest& req,
                                          Scheduler& sched, const Tensor* mask, const Tensor* masked_latents,
                                          bool cfg, SdTrace* trace) const {
  Tensor model_in = cfg ? repeat_batch(latents, 2) : latents;
  model_in = sched.scale_model_input(model_in, t);
  if (mask && unet_in_channels() == 9) model_in = cat_channels({&model_in, mask, masked_latents});
  IA_CHECK(model_in.dim(1) == unet_in_channels(), "UNet expects ", unet_in_channels(), " input channels, the ",
           sd_task_name(req.task), " pipeline gives ", model_in.dim(1));
  const Tensor ts = sched.timesteps_dtype() == diffusion::TimestepDType::I64
                        ? Tensor::from_vector_i64({int64_t(t)}, {1})
                        : Tensor::from_vector({float(t)}, {1});
  Tensor out = unet_->forward(model_in, ts, embeds);
  if (trace) {
    trace->unet_input.push_back(model_in);
    trace->unet_output.push_back(out);
  }
  Tensor guided = out;
  if (cfg) {
    const int64_t per = out.numel() / 2;
    Shape sh = out.shape();
    sh[0] = 1;
    guided = Tensor::f32(sh);
    const float* u = out.f32();
    const float* c = out.f32() + per;
    const float g = float(req.guidance_scale);
    for (int64_t i = 0; i < per; ++i) guided.f32()[i] = u[i] + g * (c[i] - u[i]);
    if (req.guidance_rescale > 0) {
      // rescale_noise_cfg (Lin et al. 2023, section 3.4).
      const double std_text = row_std(c, 1, per)[0], std_cfg = row_std(guided.f32(), 1, per)[0];
      const float f = float(req.guidance_rescale), ratio = float(std_text / std_cfg);
      for (int64_t i = 0; i < per; ++i) {
        const float v = guided.f32()[i];
        guided.f32()[i] = f * (v * ratio) + (1 - f) * v;
      }
    }
  }
  diffusion::StepOptions opt;
  opt.eta = req.eta;
  opt.draw = [&](const Shape& s) { return req.draw(s, "step"); };
  return sched.step(guided, t, latents, opt).prev_sample;
}

SdResult StableDiffusionPipeline::run(const SdRequest& req_in, SdTrace* trace) const {
  SdRequest req = req_in;
  std::shared_ptr<TorchLikeGenerator> gen;
  if (!req.draw) {
    gen = std::make_shared<TorchLikeGenerator>(req.seed);
    req.draw = [gen](const Shape& s, const std::string&) { return gen->randn(s); };
  }
  IA_CHECK(supports(req.task), dir_, ": a UNet with ", unet_in_channels(), " input channels cannot run ",
           sd_task_name(req.task));
  IA_CHECK(req.num_inference_steps >= 1, "num_inference_steps must be at least 1, got ", req.num_inference_steps);
  IA_CHECK(std::isfinite(req.guidance_scale), "guidance_scale must be finite");
  const int64_t f = vae_scale_factor();
  const int64_t latent_c = vae_->config().latent_channels;
  SdResult res;

  // Output size: text-to-image / inpainting default to the UNet's sample size; image-to-image
  // to the input image's size (rounded down to a multiple of the VAE factor).
  int64_t H = req.height, W = req.width;
  if (req.task == SdTask::ImageToImage) {
    IA_CHECK(req.image.width > 0, "image-to-image needs an input image");
    sd_image::default_size(req.image, f, &H, &W);
  } else {
    const int64_t def = unet_->config().sample_size * f;
    if (H <= 0) H = def;
    if (W <= 0) W = def;
    IA_CHECK(H > 0 && W > 0, dir_, "/unet/config.json: no sample_size, so height and width must be given");
  }
  IA_CHECK(H % 8 == 0 && W % 8 == 0, "height and width have to be divisible by 8 but are ", H, " and ", W);
  IA_CHECK(H <= 8192 && W <= 8192, "height and width above 8192 are not supported (", H, "x", W, ")");
  res.height = H;
  res.width = W;

  double strength = req.strength;
  if (strength < 0) strength = req.task == SdTask::ImageToImage ? 0.8 : 1.0;
  IA_CHECK(strength >= 0 && strength <= 1, "strength must be in [0, 1], got ", strength);

  const bool cfg = req.guidance_scale > 1.0;
  Tensor embeds;
  encode_prompt(req, cfg, &embeds, trace);

  std::unique_ptr<Scheduler> sched = make_scheduler(req);
  res.scheduler = sched->class_name();
  sched->set_timesteps(req.num_inference_steps);
  std::vector<double> timesteps = sched->timesteps();
  int steps = req.num_inference_steps;
  if (req.task != SdTask::TextToImage) {
    // get_timesteps: start part way through the schedule for strength < 1.
    const int init_t = std::min(int(double(steps) * strength), steps);
    const int t_start = std::max(steps - init_t, 0);
    const size_t skip = size_t(t_start) * size_t(sched->order());
    timesteps.erase(timesteps.begin(), timesteps.begin() + std::min(skip, timesteps.size()));
    sched->set_begin_index(int(skip));
    steps -= t_start;
    IA_CHECK(steps >= 1 && !timesteps.empty(), "after adjusting the timesteps for strength ", strength,
             ", the number of pipeline steps is ", steps, " which is < 1");
  }
  res.init_noise_sigma = sched->init_noise_sigma();
  const Shape latent_shape = {1, latent_c, H / f, W / f};

  Tensor latents, init_image, mask, masked_latents, image_latents, noise;
  if (req.task == SdTask::TextToImage) {
    if (req.latents.defined()) {
      IA_CHECK(req.latents.shape() == latent_shape, "Unexpected latents shape, got ", shape_str(req.latents.shape()),
               ", expected ", shape_str(latent_shape));
      latents = req.latents.to_f32();
    } else {
      latents = req.draw(latent_shape, "latents").to_f32();
    }
    latents = scaled(latents, sched->init_noise_sigma());
  } else if (req.task == SdTask::ImageToImage) {
    init_image = sd_image::preprocess_image(req.image, H, W);
    if (trace) trace->preprocessed_image = init_image;
    const Tensor init_latents = encode_image(init_image, req.draw);
    noise = req.draw(init_latents.shape(), "noise").to_f32();
    latents = sched->add_noise(init_latents, noise, {timesteps.front()});
  } else {
    IA_CHECK(req.image.width > 0 && req.mask.width > 0, "inpainting needs an image and a mask");
    init_image = sd_image::preprocess_image(req.image, H, W);
    if (trace) trace->preprocessed_image = init_image;
    const bool strength_max = strength == 1.0;
    const bool legacy = unet_in_channels() == 4;
    if (legacy || (!req.latents.defined() && !strength_max)) image_latents = encode_image(init_image, req.draw);
    if (req.latents.defined()) {
      IA_CHECK(req.latents.shape() == latent_shape, "Unexpected latents shape, got ", shape_str(req.latents.shape()),
               ", expected ", shape_str(latent_shape));
      noise = req.latents.to_f32();
      latents = scaled(noise, sched->init_noise_sigma());
    } else {
      noise = req.draw(latent_shape, "noise").to_f32();
      latents = strength_max ? scaled(noise, sched->init_noise_sigma())
                             : sched->add_noise(image_latents, noise, {timesteps.front()});
    }
    const Tensor mask_cond = sd_image::preprocess_mask(req.mask, H, W);
    if (trace) trace->preprocessed_mask = mask_cond;
    Tensor masked_image = init_image.clone();
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t i = 0; i < H * W; ++i)
        if (!(mask_cond.f32()[i] < 0.5f)) masked_image.f32()[c * H * W + i] = 0.0f;
    const Tensor mask_small = sd_image::nearest_resize(mask_cond, H / f, W / f);
    masked_latents = encode_image(masked_image, req.draw);
    if (trace) {
      trace->mask_latent = mask_small;
      trace->masked_image_latents = masked_latents;
    }
    mask = cfg ? repeat_batch(mask_small, 2) : mask_small;
    masked_latents = cfg ? repeat_batch(masked_latents, 2) : masked_latents;
    if (!legacy)
      IA_CHECK(latent_c + 1 + masked_latents.dim(1) == unet_in_channels(), "the UNet takes ", unet_in_channels(),
               " channels but latents, mask and masked image give ", latent_c + 1 + masked_latents.dim(1));
  }

  if (trace) {
    std::vector<double> ts = timesteps;
    if (sched->timesteps_dtype() == diffusion::TimestepDType::I64) {
      std::vector<int64_t> v(ts.begin(), ts.end());
      trace->timesteps = Tensor::from_vector_i64(v, {int64_t(v.size())});
    } else {
      std::vector<float> v(ts.begin(), ts.end());
      trace->timesteps = Tensor::from_vector(v, {int64_t(v.size())});
    }
  }

  const bool inpaint = req.task == SdTask::Inpainting;
  for (size_t i = 0; i < timesteps.size(); ++i) {
    latents = unet_step(latents, embeds, timesteps[i], req, *sched, inpaint ? &mask : nullptr,
                        inpaint ? &masked_latents : nullptr, cfg, trace);
    ++res.unet_calls;
    if (inpaint && unet_in_channels() == 4) {
      // Legacy inpainting: keep the known region from the (re-noised) image latents.
      Tensor proper = image_latents;
      if (i + 1 < timesteps.size()) proper = sched->add_noise(image_latents, noise, {timesteps[i + 1]});
      const int64_t hw = (H / f) * (W / f);
      for (int64_t c = 0; c < latent_c; ++c)
        for (int64_t k = 0; k < hw; ++k) {
          const float m = mask.f32()[k];
          float& v = latents.f32()[c * hw + k];
          v = (1 - m) * proper.f32()[c * hw + k] + m * v;
        }
    }
    if (trace) trace->step_latents.push_back(latents);
  }

  Tensor unscaled = Tensor::f32(latents.shape());
  const float sf = float(vae_->scaling_factor());
  for (int64_t i = 0; i < latents.numel(); ++i) unscaled.f32()[i] = latents.f32()[i] / sf;
  const Tensor decoded = vae_->decode(unscaled);
  if (trace) trace->decoded = decoded;
  res.image = sd_image::postprocess(decoded);
  res.image_u8 = sd_image::to_image_u8(res.image);
  return res;
}

}  // namespace ia
