#include "pipelines/stable_diffusion_task.h"

#include <chrono>
#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "formats/hf_config.h"
#include "pipelines/image_input.h"
#include "pipelines/pipeline_result.h"
#include "pipelines/stable_diffusion_image.h"
#include "pipelines/stable_diffusion_pipeline.h"

namespace ia {

namespace fs = std::filesystem;

bool is_stable_diffusion_dir(const std::string& dir) {
  const fs::path p = fs::path(dir) / "model_index.json";
  if (!fs::exists(p)) return false;
  try {
    const std::string cls = HFConfig::load(p.string()).get_string("_class_name", "");
    return cls.rfind("StableDiffusion", 0) == 0;
  } catch (const std::exception&) {
    return false;
  }
}

nlohmann::json run_stable_diffusion_task(const SdTaskArgs& a) {
  try {
    SdRequest req;
    std::string task = a.task;
    if (task.empty()) task = !a.mask.empty() ? "inpainting" : !a.image.empty() ? "image-to-image" : "text-to-image";
    req.task = sd_task_from_name(task);
    IA_CHECK(!a.prompt.empty(), "a prompt is needed (--input or --prompt)");
    req.prompt = a.prompt;
    req.negative_prompt = a.negative_prompt;
    if (a.steps != -1) req.num_inference_steps = a.steps;
    if (!std::isnan(a.guidance)) req.guidance_scale = a.guidance;
    if (!std::isnan(a.strength)) req.strength = a.strength;
    req.eta = a.eta;
    req.height = a.height;
    req.width = a.width;
    IA_CHECK(a.height >= 0 && a.width >= 0, "--height and --width must be positive");
    IA_CHECK(a.seed >= 0, "--seed must be non-negative");
    req.seed = uint64_t(a.seed);
    req.scheduler_class = a.scheduler;
    if (req.task != SdTask::TextToImage) {
      IA_CHECK(!a.image.empty(), task, " needs --image");
      req.image = load_image_input(a.image);
    }
    if (req.task == SdTask::Inpainting) {
      IA_CHECK(!a.mask.empty(), "inpainting needs --mask");
      req.mask = load_image_input(a.mask);
    } else {
      IA_CHECK(a.mask.empty(), "--mask is only for inpainting");
    }
    const auto pipe = StableDiffusionPipeline::load(a.model_dir);
    const auto t0 = std::chrono::steady_clock::now();
    const SdResult res = pipe->run(req);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::vector<uint8_t> png = sd_image::encode_png(res.image_u8);
    if (!a.out.empty()) sd_image::write_png(a.out, res.image_u8);
    nlohmann::json params = {{"prompt", req.prompt},
                             {"guidance_scale", req.guidance_scale},
                             {"num_inference_steps", req.num_inference_steps},
                             {"height", res.height},
                             {"width", res.width},
                             {"scheduler", res.scheduler}};
    if (!req.negative_prompt.empty()) params["negative_prompt"] = req.negative_prompt;
    if (a.seed_given) params["seed"] = a.seed;
    if (req.task != SdTask::TextToImage) params["strength"] = req.strength >= 0 ? req.strength
                                                              : req.task == SdTask::ImageToImage ? 0.8 : 1.0;
    nlohmann::json payload = {{"images", nlohmann::json::array({sd_image::base64_encode(png)})},
                              {"count", 1},
                              {"format", "png"},
                              {"parameters", params},
                              {"task_type", sd_task_name(req.task)},
                              {"unet_calls", res.unet_calls},
                              {"seconds", secs}};
    if (!a.out.empty()) payload["output_path"] = a.out;
    return success_result("diffusion_output", payload);
  } catch (const std::exception& e) {
    return error_result(e.what());
  }
}

}  // namespace ia
