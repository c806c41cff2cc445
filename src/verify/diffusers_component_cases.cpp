#include "verify/diffusers_component_cases.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/safetensors.h"
#include "templates/diffusion/autoencoder_kl.h"
#include "templates/diffusion/diffusers_component.h"
#include "templates/diffusion/unet_2d_condition.h"
#include "verify/case_runner.h"

namespace ia {

namespace fs = std::filesystem;
using json = nlohmann::json;
using TensorMap = std::map<std::string, Tensor>;

namespace {

const char* kUNet = "UNet2DConditionModel";
const char* kVAE = "AutoencoderKL";

// The tensor an input spec names: {"tensor": name} or {"same_as": name}.
Tensor input_tensor(const SafetensorsFile& st, const json& spec, const std::string& what) {
  std::string name;
  if (spec.is_object() && spec.contains("tensor")) name = spec["tensor"].get<std::string>();
  else if (spec.is_object() && spec.contains("same_as")) name = spec["same_as"].get<std::string>();
  else fail("input ", what, ": neither a stored tensor nor same_as");
  IA_CHECK(st.has(name), "input ", what, ": tensor ", name, " is not in reference.safetensors");
  return st.tensor(name);
}

TensorMap case_inputs(const SafetensorsFile& st, const json& kase) {
  TensorMap in;
  const json inputs = kase.value("inputs", json::object());
  for (auto it = inputs.begin(); it != inputs.end(); ++it)
    if (it.value().is_object() && (it.value().contains("tensor") || it.value().contains("same_as")))
      in[it.key()] = input_tensor(st, it.value(), it.key());
  return in;
}

const Tensor& need(const TensorMap& in, const char* name) {
  auto it = in.find(name);
  IA_CHECK(it != in.end(), "case input ", name, " is missing");
  return it->second;
}

TensorMap run_unet(const diffusion::DiffusionUNet& unet, const TensorMap& in) {
  TensorMap inter, out;
  auto cond = in.find("timestep_cond");
  for (const auto& [k, v] : in)
    if (k != "sample" && k != "timestep" && k != "encoder_hidden_states" && k != "timestep_cond")
      throw Unsupported(cat("UNet2DConditionModel input '", k, "' is not supported"));
  out["sample"] = unet.forward(need(in, "sample"), need(in, "timestep"), need(in, "encoder_hidden_states"), &inter,
                               cond == in.end() ? Tensor() : cond->second);
  for (auto& [k, v] : inter) out["intermediate." + k] = v;
  return out;
}

TensorMap run_vae(const diffusion::AutoencoderKL& vae, const std::string& name, const TensorMap& in,
                  const json& ref, const SafetensorsFile& st) {
  TensorMap out;
  if (name == "encode") {
    TensorMap inter;
    const diffusion::LatentDistribution d = vae.encode(need(in, "image"), &inter);
    out["encoder_out"] = inter.at("encoder_out");
    out["moments"] = d.moments;
    out["mean"] = d.mean;
    out["logvar"] = d.logvar;
    out["std"] = d.std;
  } else if (name == "sample_posterior") {
    // The posterior of the encode case's image, sampled with the given noise.
    Tensor image;
    if (in.count("image")) image = in.at("image");
    for (const auto& k : ref.value("cases", json::array()))
      if (!image.defined() && k.value("name", "") == "encode")
        image = input_tensor(st, k["inputs"]["image"], "encode.image");
    IA_CHECK(image.defined(), "sample_posterior: no encode case to take the image from");
    out["latents"] = vae.encode(image).sample(need(in, "noise"));
  } else if (name == "decode") {
    TensorMap inter;
    out["sample"] = vae.decode(need(in, "latents"), &inter);
    for (auto& [k, v] : inter) out["intermediate." + k] = v;
  } else if (name == "forward") {
    out["sample"] = vae.forward(need(in, "image"));
  } else {
    throw Unsupported(cat("AutoencoderKL case '", name, "' is not known"));
  }
  return out;
}

struct Diff {
  bool ok = true;
  double max_abs = 0;
  std::string detail;
};

Diff compare(const std::string& name, const Tensor& got_in, const Tensor& want_in, double atol, double rtol) {
  Diff d;
  if (got_in.shape() != want_in.shape()) {
    d.ok = false;
    d.detail = cat(name, ": shape ", shape_str(got_in.shape()), " != reference ", shape_str(want_in.shape()));
    return d;
  }
  const Tensor g = got_in.to_f32(), w = want_in.to_f32();
  for (int64_t i = 0, n = w.numel(); i < n; ++i) {
    const double a = g.f32()[i], b = w.f32()[i];
    double e = std::fabs(a - b);
    const bool bad = !(e <= atol + rtol * std::fabs(b));
    if (std::isnan(e)) e = INFINITY;
    d.max_abs = std::max(d.max_abs, e);
    if (bad && d.ok) {
      d.ok = false;
      d.detail = cat(name, ": first differs at flat index ", i, " of ", shape_str(w.shape()), ": got ", a,
                     ", reference ", b, " (atol ", atol, ", rtol ", rtol, ")");
    }
  }
  return d;
}

}  // namespace

bool is_diffusers_component_fixture(const std::string& dir) {
  if (!fs::exists(fs::path(dir) / "reference.json")) return false;
  const std::string cls = diffusion::diffusers_class_name(dir);
  return cls == kUNet || cls == kVAE;
}

std::vector<CaseResult> verify_diffusers_component_fixture(const std::string& dir, const std::string& rel,
                                                           const VerifyOptions&) {
  std::vector<CaseResult> out;
  json ref;
  try {
    std::ifstream in(fs::path(dir) / "reference.json");
    ref = json::parse(in);
  } catch (const std::exception& e) {
    out.push_back({CaseStatus::Fail, rel, "load", 0.0, cat((fs::path(dir) / "reference.json").string(), ": ", e.what())});
    return out;
  }
  const json cases = ref.value("cases", json::array());
  const std::string cls = diffusion::diffusers_class_name(dir);
  std::unique_ptr<diffusion::DiffusionUNet> unet;
  std::unique_ptr<diffusion::AutoencoderKL> vae;
  std::shared_ptr<SafetensorsFile> st;
  try {
    if (cls == kUNet) unet = diffusion::DiffusionUNet::load(dir);
    else vae = diffusion::AutoencoderKL::load(dir);
    st = SafetensorsFile::open((fs::path(dir) / "reference.safetensors").string());
  } catch (const std::exception& e) {
    return load_failure_results(rel, cases, e);
  }
  const json def_tol = ref.value("default_tolerance", json::object());
  for (const auto& kase : cases) {
    out.push_back(run_verify_case(rel, kase.value("name", "?"), [&](CaseResult& r) {
      const TensorMap in = case_inputs(*st, kase);
      const TensorMap got = unet ? run_unet(*unet, in) : run_vae(*vae, r.case_name, in, ref, *st);
      const json outputs = kase.value("outputs", json::object());
      IA_CHECK(!outputs.empty(), "case has no outputs to compare");
      for (auto it = outputs.begin(); it != outputs.end(); ++it) {
        auto g = got.find(it.key());
        if (g == got.end()) {
          r.status = CaseStatus::Fail;
          r.detail = cat(it.key(), ": not produced by the engine");
          return;
        }
        const double atol = it.value().value("atol", def_tol.value("atol", 1e-4));
        const double rtol = it.value().value("rtol", def_tol.value("rtol", 1e-4));
        const Diff d = compare(it.key(), g->second, st->tensor(it.value()["tensor"].get<std::string>()), atol, rtol);
        r.max_abs_err = std::max(r.max_abs_err, d.max_abs);
        if (!d.ok) {
          r.status = CaseStatus::Fail;
          r.detail = d.detail;
          return;
        }
      }
    }));
  }
  return out;
}

}  // namespace ia
