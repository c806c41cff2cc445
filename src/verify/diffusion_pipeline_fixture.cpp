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
  // The reference replaced every random draw by a given tensor; hand them out by purpose.
  std::map<std::string, Tensor> given;
  for (const auto& [key, purpose] : std::vector<std::pair<std::string, std::string>>{
           {"vae_noise", "vae"}, {"noise", "noise"}, {"step_noise", "step"}, {"variance_noise", "step"}})
    if (inputs.contains(key)) given[purpose] = spec_tensor(inputs[key], st, key).to_f32();
  std::map<std::string, int64_t> used;
  req.draw = [&](const Shape& shape, const std::string& purpose) -> Tensor {
    auto it = given.find(purpose);
    if (it == given.end()) {
      // Schedulers that draw noise they do not use (Euler with s_churn = 0) get zeros.
      if (purpose == "step") return Tensor::zeros(DType::F32, shape);
      fail("the pipeline drew '", purpose, "' noise but the reference gives none");
    }
    const Tensor& t = it->second;
    if (t.shape() == shape && used[purpose]++ == 0) return t;
    // Per-step noise stored stacked [steps, ...].
    const int64_t k = purpose == "step" ? used[purpose]++ : -1;
    IA_CHECK(k >= 0 && t.rank() == int(shape.size()) + 1 && k < t.dim(0), "given '", purpose, "' noise of shape ",
             shape_str(t.shape()), " does not fit a draw of ", shape_str(shape));
    return slice0(t, k);
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
    out.push_back(run_case(rel, "load", [&](CaseResult&) {
      if (unsupported) throw Unsupported(load_error);
      fail(load_error);
    }));
    return out;
  }
  for (const json& kase : ref.value("cases", json::array()))
    out.push_back(run_case(rel, kase.value("name", "?"), [&](CaseResult& r) { run_pipeline_case(*pipe, kase, *st, r); }));
  return out;
}

}  // namespace ia
