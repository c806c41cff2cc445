#include "verify/diffusion_pipeline_fixture.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include "pipelines/stable_diffusion_image.h"
#include "pipelines/stable_diffusion_pipeline.h"
#include "verify/diffusion_fixture_common.h"

namespace ia {

namespace fs = std::filesystem;
using namespace ia::diffusion_verify;

bool is_diffusion_pipeline_fixture(const std::string& dir) {
  return fs::exists(fs::path(dir) / "model_index.json") && fs::exists(fs::path(dir) / "reference.json");
}

namespace {

// Python float keyword of the reference call text (eta=0.0), `def` when absent.
double call_float(const std::string& call, const std::string& key, double def) {
  std::smatch m;
  if (std::regex_search(call, m, std::regex("[(, ]" + key + "=([0-9.eE+-]+)"))) return std::stod(m[1].str());
  return def;
}

Tensor ids_tensor(const std::vector<int64_t>& ids) { return Tensor::from_vector_i64(ids, {1, int64_t(ids.size())}); }

void run_pipeline_case(const StableDiffusionPipeline& pipe, const json& kase, const SafetensorsFile& st,
                       CaseResult& r) {
  const json inputs = kase.value("inputs", json::object());
  const json outputs = kase.value("outputs", json::object());
  const std::string call = kase.value("call", "");
  SdRequest req;
  if (inputs.contains("mask_u8")) req.task = SdTask::Inpainting;
  else if (inputs.contains("image_u8")) req.task = SdTask::ImageToImage;
  req.prompt = inputs.value("prompt", "");
  req.negative_prompt = inputs.value("negative_prompt", "");
  req.num_inference_steps = int(inputs.value("num_inference_steps", 50));
  req.guidance_scale = inputs.value("guidance_scale", 7.5);
  req.height = inputs.value("height", int64_t(0));
  req.width = inputs.value("width", int64_t(0));
  req.strength = inputs.value("strength", -1.0);
  req.eta = call_float(call, "eta", 0.0);
  if (kase.contains("scheduler_override"))
    req.scheduler_class = kase["scheduler_override"].at("class").get<std::string>();
  if (inputs.contains("latents")) req.latents = spec_tensor(inputs["latents"], st, "latents").to_f32();
  if (inputs.contains("image_u8")) req.image = sd_image::image_from_tensor(spec_tensor(inputs["image_u8"], st, "image_u8"), "image_u8");
  if (inputs.contains("mask_u8")) req.mask = sd_image::image_from_tensor(spec_tensor(inputs["mask_u8"], st, "mask_u8"), "mask_u8");
  req.eta = inputs.value("eta", req.eta);
  req.guidance_rescale = inputs.value("guidance_rescale", 0.0);
  // The reference replaced every random draw by a given tensor; hand them out by purpose,
  // in order: vae_noise, vae_noise_2, ... (posterior samples), noise, and per-step noise
  // stacked [steps, ...] (step_noise / variance_noise).
  std::map<std::string, std::vector<Tensor>> given;
  for (const auto& [key, purpose] : std::vector<std::pair<std::string, std::string>>{
           {"vae_noise", "vae"}, {"noise", "noise"}, {"latents_noise", "latents"}})
    for (int k = 1; k < 16; ++k) {
      const std::string name = k == 1 ? key : cat(key, "_", k);
      if (!inputs.contains(name)) break;
      given[purpose].push_back(spec_tensor(inputs[name], st, name).to_f32());
    }
  Tensor step_noise;
  for (const char* key : {"step_noise", "variance_noise"})
    if (inputs.contains(key)) step_noise = spec_tensor(inputs[key], st, key).to_f32();
  std::map<std::string, size_t> used;
  req.draw = [&](const Shape& shape, const std::string& purpose) -> Tensor {
    const size_t k = used[purpose]++;
    if (purpose == "step") {
      // Schedulers that draw noise they do not use (Euler with s_churn = 0) may get zeros.
      if (!step_noise.defined()) return Tensor::zeros(DType::F32, shape);
      IA_CHECK(step_noise.rank() == int(shape.size()) + 1 && int64_t(k) < step_noise.dim(0), "given step noise of shape ",
               shape_str(step_noise.shape()), " does not fit draw ", k, " of ", shape_str(shape));
      return slice0(step_noise, int64_t(k));
    }
    auto it = given.find(purpose);
    IA_CHECK(it != given.end() && k < it->second.size(), "the pipeline drew '", purpose, "' noise #", k + 1,
             " but the reference gives ", it == given.end() ? 0 : it->second.size());
    IA_CHECK(it->second[k].shape() == shape, "given '", purpose, "' noise has shape ", shape_str(it->second[k].shape()),
             ", the draw ", shape_str(shape));
    return it->second[k];
  };

  SdTrace trace;
  const SdResult res = pipe.run(req, &trace);

  auto check = [&](const char* name, const Tensor& got) {
    if (outputs.contains(name)) check_output(name, outputs[name], got, st, r);
  };
  check("prompt_input_ids", ids_tensor(trace.prompt_ids));
  check("prompt_embeds", trace.prompt_embeds);
  if (outputs.contains("negative_prompt_input_ids")) check("negative_prompt_input_ids", ids_tensor(trace.negative_ids));
  check("negative_prompt_embeds", trace.negative_embeds);
  if (outputs.contains("timesteps")) {
    const bool want_int = outputs["timesteps"].value("dtype", "") == "int64";
    if (want_int != (trace.timesteps.dtype() == DType::I64))
      fail_case(r, cat("timesteps: engine keeps ", trace.timesteps.dtype() == DType::I64 ? "int64" : "float32",
                       ", reference ", outputs["timesteps"].value("dtype", "")));
    check("timesteps", trace.timesteps);
  }
  if (!trace.unet_input.empty()) {
    check("unet_input", stack0(trace.unet_input));
    check("unet_output", stack0(trace.unet_output));
  }
  if (!trace.step_latents.empty()) check("step_latents", stack0(trace.step_latents));
  check("decoded", trace.decoded);
  check("image", res.image);
  check("mask_latent", trace.mask_latent);
  check("masked_image_latents", trace.masked_image_latents);
  // The preprocessed inputs the reference records are checked as outputs too.
  if (inputs.contains("preprocessed_image"))
    check_output("preprocessed_image", inputs["preprocessed_image"], trace.preprocessed_image, st, r);
  if (inputs.contains("preprocessed_mask"))
    check_output("preprocessed_mask", inputs["preprocessed_mask"], trace.preprocessed_mask, st, r);
  if (kase.contains("unet_calls") && kase["unet_calls"].get<int>() != res.unet_calls)
    fail_case(r, cat("unet_calls: ", res.unet_calls, " != reference ", kase["unet_calls"].get<int>()));
  if (kase.contains("init_noise_sigma"))
    check_scalar("init_noise_sigma", kase["init_noise_sigma"].get<double>(), res.init_noise_sigma, r);
}

}  // namespace

std::vector<CaseResult> verify_diffusion_pipeline_fixture(const std::string& dir, const std::string& rel,
                                                          const VerifyOptions&) {
  std::vector<CaseResult> out;
  json ref;
  std::shared_ptr<SafetensorsFile> st;
  std::unique_ptr<StableDiffusionPipeline> pipe;
  std::string load_error;
  bool unsupported = false;
  try {
    std::ifstream in((fs::path(dir) / "reference.json").string());
    ref = json::parse(in);
    st = SafetensorsFile::open((fs::path(dir) / "reference.safetensors").string());
    pipe = StableDiffusionPipeline::load(dir);
  } catch (const Unsupported& e) {
    load_error = e.what();
    unsupported = true;
  } catch (const std::exception& e) {
    load_error = e.what();
  }
  if (!pipe) {
    out.push_back(run_verify_case(rel, "load", [&](CaseResult&) {
      if (unsupported) throw Unsupported(load_error);
      fail(load_error);
    }));
    return out;
  }
  for (const json& kase : ref.value("cases", json::array()))
    out.push_back(run_verify_case(rel, kase.value("name", "?"), [&](CaseResult& r) { run_pipeline_case(*pipe, kase, *st, r); }));
  return out;
}

}  // namespace ia
