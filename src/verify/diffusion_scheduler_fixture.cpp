#include "verify/diffusion_scheduler_fixture.h"

#include <filesystem>
#include <fstream>
#include <regex>

#include "diffusion_schedulers/scheduler.h"
#include "formats/hf_config.h"
#include "verify/diffusion_fixture_common.h"

namespace ia {

namespace fs = std::filesystem;
using namespace ia::diffusion_verify;
using diffusion::Scheduler;

bool is_diffusion_scheduler_fixture(const std::string& dir) {
  return fs::exists(fs::path(dir) / "scheduler_config.json") && fs::exists(fs::path(dir) / "reference.json") &&
         !fs::exists(fs::path(dir) / "config.json");
}

namespace {

int int_after(const std::string& text, const std::string& pattern, const std::string& what) {
  std::smatch m;
  IA_CHECK(std::regex_search(text, m, std::regex(pattern)), what, ": cannot find ", pattern);
  return std::stoi(m[1].str());
}

// Python float keyword in the call text (eta=1.0), or `def` when absent.
double float_kwarg(const std::string& call, const std::string& key, double def) {
  std::smatch m;
  if (std::regex_search(call, m, std::regex(key + "=([0-9.eE+-]+)"))) return std::stod(m[1].str());
  return def;
}

std::vector<double> values_of(const Tensor& t) {
  std::vector<double> v;
  if (t.dtype() == DType::I64)
    for (int64_t i = 0; i < t.numel(); ++i) v.push_back(double(t.i64()[i]));
  else {
    const Tensor f = t.to_f32();
    for (int64_t i = 0; i < f.numel(); ++i) v.push_back(double(f.f32()[i]));
  }
  return v;
}

void run_scheduler_case(const HFConfig& cfg, const json& kase, const SafetensorsFile& st, CaseResult& r) {
  const std::string name = kase.value("name", "");
  const std::string call = kase.value("call", "");
  const json inputs = kase.value("inputs", json::object());
  const json outputs = kase.value("outputs", json::object());
  std::unique_ptr<Scheduler> s = diffusion::make_scheduler(cfg);
  auto check_timesteps = [&](const std::string& key) {
    if (!outputs.contains(key)) return;
    const json& spec = outputs[key];
    const bool want_int = spec.value("dtype", "") == "int64";
    const bool have_int = s->timesteps_dtype() == diffusion::TimestepDType::I64;
    if (want_int != have_int) {
      fail_case(r, cat(key, ": engine keeps ", have_int ? "int64" : "float", " timesteps, reference ",
                       spec.value("dtype", "")));
      return;
    }
    check_output(key, spec, s->timesteps_tensor(), st, r);
  };

  if (name == "schedule") {
    const auto& b = s->betas();
    const auto& a = s->alphas_cumprod();
    check_output("betas", outputs.at("betas"), Tensor::from_vector(b, {int64_t(b.size())}), st, r);
    check_output("alphas_cumprod", outputs.at("alphas_cumprod"), Tensor::from_vector(a, {int64_t(a.size())}), st, r);
    return;
  }
  if (name.rfind("set_timesteps_", 0) == 0) {
    s->set_timesteps(int(inputs.at("num_inference_steps").get<int64_t>()));
    check_timesteps("timesteps");
    if (outputs.contains("sigmas")) {
      const auto& sg = s->sigmas();
      check_output("sigmas", outputs["sigmas"], Tensor::from_vector(sg, {int64_t(sg.size())}), st, r);
    }
    if (outputs.contains("init_noise_sigma"))
      check_scalar("init_noise_sigma", outputs["init_noise_sigma"].get<double>(), s->init_noise_sigma(), r);
    return;
  }
  if (name.rfind("loop_", 0) == 0) {
    s->set_timesteps(int_after(name, "loop_(\\d+)", name));
    const double eta = float_kwarg(call, "eta", 0.0);
    const Tensor init = spec_tensor(inputs.at("initial_noise"), st, "initial_noise").to_f32();
    const Tensor outs = spec_tensor(inputs.at("model_outputs"), st, "model_outputs").to_f32();
    Tensor noises;
    for (const char* k : {"step_noise", "variance_noise"})
      if (inputs.contains(k)) noises = spec_tensor(inputs[k], st, k).to_f32();
    check_timesteps("timesteps");
    const auto& ts = s->timesteps();
    IA_CHECK(outs.dim(0) == int64_t(ts.size()), name, ": ", outs.dim(0), " model outputs for ", ts.size(),
             " timesteps");
    Tensor x = init.clone();
    const float sigma0 = s->init_noise_sigma();
    for (int64_t i = 0; i < x.numel(); ++i) x.f32()[i] *= sigma0;
    if (kase.contains("init_noise_sigma")) check_scalar("init_noise_sigma", kase["init_noise_sigma"].get<double>(), sigma0, r);
    std::vector<Tensor> scaled, prev, x0;
    for (size_t i = 0; i < ts.size(); ++i) {
      scaled.push_back(s->scale_model_input(x, ts[i]));
      diffusion::StepOptions opt;
      opt.eta = eta;
      Tensor noise;
      if (noises.defined()) {
        noise = slice0(noises, int64_t(i));
        opt.noise = &noise;
      }
      diffusion::StepOutput o = s->step(slice0(outs, int64_t(i)), ts[i], x, opt);
      prev.push_back(o.prev_sample);
      if (o.pred_original_sample.defined()) x0.push_back(o.pred_original_sample);
      x = o.prev_sample;
    }
    if (outputs.contains("scaled_model_input")) check_output("scaled_model_input", outputs["scaled_model_input"], stack0(scaled), st, r);
    if (outputs.contains("prev_sample")) check_output("prev_sample", outputs["prev_sample"], stack0(prev), st, r);
    if (outputs.contains("pred_original_sample"))
      check_output("pred_original_sample", outputs["pred_original_sample"], x0.empty() ? Tensor() : stack0(x0), st, r);
    return;
  }
  if (name == "add_noise") {
    s->set_timesteps(int_after(call, "set_timesteps\\((\\d+)\\)", name));
    const Tensor orig = spec_tensor(inputs.at("original_samples"), st, "original_samples");
    const Tensor noise = spec_tensor(inputs.at("noise"), st, "noise");
    const Tensor ts = spec_tensor(inputs.at("timesteps"), st, "timesteps");
    check_output("noisy", outputs.at("noisy"), s->add_noise(orig, noise, values_of(ts)), st, r);
    return;
  }
  throw Unsupported(cat("scheduler case '", name, "' is not a kind this runner knows"));
}

}  // namespace

std::vector<CaseResult> verify_diffusion_scheduler_fixture(const std::string& dir, const std::string& rel,
                                                           const VerifyOptions&) {
  std::vector<CaseResult> out;
  const std::string ref_path = (fs::path(dir) / "reference.json").string();
  std::ifstream in(ref_path);
  json ref;
  try {
    ref = json::parse(in);
  } catch (const std::exception& e) {
    out.push_back(run_verify_case(rel, "load", [&](CaseResult&) { fail(ref_path, ": malformed JSON: ", e.what()); }));
    return out;
  }
  std::shared_ptr<SafetensorsFile> st;
  HFConfig cfg;
  try {
    st = SafetensorsFile::open((fs::path(dir) / "reference.safetensors").string());
    cfg = HFConfig::load((fs::path(dir) / "scheduler_config.json").string());
  } catch (const std::exception& e) {
    const std::string why = e.what();
    out.push_back(run_verify_case(rel, "load", [&](CaseResult&) { fail(why); }));
    return out;
  }
  for (const json& kase : ref.value("cases", json::array()))
    out.push_back(run_verify_case(rel, kase.value("name", "?"), [&](CaseResult& r) { run_scheduler_case(cfg, kase, *st, r); }));
  return out;
}

}  // namespace ia
