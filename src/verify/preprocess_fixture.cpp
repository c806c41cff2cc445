// `verify` for preprocessing fixtures (preprocessor_config.json + reference.json
// + reference.safetensors, no config.json): decodes each case's image or WAV
// file with the engine's own decoders, runs the image processor / feature
// extractor and compares every stage and output with its tolerance.
#include "verify/preprocess_fixture.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/safetensors.h"
#include "preprocess/audio.h"
#include "preprocess/audio_feature_extractor.h"
#include "preprocess/image.h"
#include "preprocess/image_processor.h"
#include "preprocess/resample_audio.h"
#include "verify/case_runner.h"

namespace ia {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

struct Check {
  bool ok = true;
  double max_abs = 0.0;
  std::string detail;
};

// |got - want| <= atol + rtol * |want| elementwise, plus mean_atol on the mean.
Check compare(const std::string& name, const Tensor& got_in, const Tensor& want_in, double atol, double rtol,
              double mean_atol) {
  Check c;
  if (got_in.numel() != want_in.numel() || got_in.shape() != want_in.shape()) {
    c.ok = false;
    c.detail = cat(name, ": shape ", shape_str(got_in.shape()), " != reference ", shape_str(want_in.shape()));
    return c;
  }
  const Tensor g = got_in.to_f32(), w = want_in.to_f32();
  double sum = 0.0;
  const int64_t n = w.numel();
  for (int64_t i = 0; i < n; ++i) {
    const double a = g.f32()[i], b = w.f32()[i];
    double d = std::fabs(a - b);
    if (std::isnan(d)) d = INFINITY;
    c.max_abs = std::max(c.max_abs, d);
    sum += std::isfinite(d) ? d : 0.0;
    if (!(d <= atol + rtol * std::fabs(b)) && c.ok) {
      c.ok = false;
      c.detail = cat(name, ": first differs at flat index ", i, " of ", shape_str(w.shape()), ": got ", a,
                     ", reference ", b, " (atol ", atol, ", rtol ", rtol, ")");
    }
  }
  if (c.ok && mean_atol >= 0 && n > 0 && sum / double(n) > mean_atol) {
    c.ok = false;
    c.detail = cat(name, ": mean |diff| ", sum / double(n), " exceeds mean_atol ", mean_atol);
  }
  return c;
}

Tensor image_tensor(const Image& im) {
  Tensor t = Tensor::empty(DType::U8, {im.height, im.width, 3});
  std::memcpy(t.raw(), im.rgb.data(), im.rgb.size());
  return t;
}

// Values given inline in the spec ("values": [[53, 37]]) or as a stored tensor.
Tensor reference_tensor(const json& spec, const SafetensorsFile& st) {
  if (spec.contains("tensor") && st.has(spec["tensor"].get<std::string>()))
    return st.tensor(spec["tensor"].get<std::string>());
  IA_CHECK(spec.contains("values"), "reference entry has neither a stored tensor nor values");
  std::vector<int64_t> v;
  Shape shape = spec.value("shape", Shape{});
  std::function<void(const json&)> flat = [&](const json& j) {
    if (j.is_array()) for (const auto& e : j) flat(e);
    else v.push_back(j.get<int64_t>());
  };
  flat(spec["values"]);
  return Tensor::from_vector_i64(v, shape);
}

// A preprocess fixture's reference side: its input files and reference tensors.
class PreprocessReference {
 public:
  PreprocessReference(std::string dir, std::shared_ptr<SafetensorsFile> st)
      : dir_(std::move(dir)), st_(std::move(st)) {}

  // Compares every output of `spec_outputs` that the engine produced in `got`.
  void check_outputs(const json& outputs, const TensorMap& got, CaseResult& r) const {
    for (auto it = outputs.begin(); it != outputs.end(); ++it) {
      const std::string& name = it.key();
      const json& spec = it.value();
      auto g = got.find(name);
      if (g == got.end()) {
        fail_case(r, cat(name, ": not produced by the engine"));
        return;
      }
      const Tensor want = reference_tensor(spec, *st_);
      const bool integer = !dtype_is_float(want.dtype());
      const double atol = spec.value("atol", integer ? 0.0 : 1e-5);
      const double rtol = spec.value("rtol", 0.0);
      const double mean_atol = spec.value("mean_atol", -1.0);
      Check c = compare(name, g->second, want, atol, rtol, mean_atol);
      r.max_abs_err = std::max(r.max_abs_err, c.max_abs);
      if (!c.ok) {
        fail_case(r, c.detail);
        return;
      }
    }
  }

  std::string path(const json& inputs, const char* key = "file") const {
    return (fs::path(dir_) / inputs.at(key).get<std::string>()).string();
  }

  const std::string dir_;
  std::shared_ptr<SafetensorsFile> st_;
};

// ---- images -----------------------------------------------------------------

TensorMap run_image_case(const ImageProcessor& proc, const PreprocessReference& run, const json& kase,
                         CaseResult& r) {
  const json inputs = kase.value("inputs", json::object());
  TensorMap got;
  if (kase.value("name", "") == "post_process_masks") {
    const Tensor masks = run.st_->tensor(inputs["low_res_masks"]["tensor"].get<std::string>());
    const Tensor orig = reference_tensor(inputs["original_sizes"], *run.st_).to_i64();
    const Tensor resh = reference_tensor(inputs["reshaped_input_sizes"], *run.st_).to_i64();
    IA_CHECK(masks.rank() >= 3 && masks.dim(0) == orig.dim(0), "post_process_masks: masks and sizes disagree");
    // One image (batch index 0): masks[0] as post_process_masks iterates over images.
    const Tensor first = masks.to_f32().reshape(Shape(masks.shape().begin() + 1, masks.shape().end()));
    got["masks"] = proc.sam_post_process_masks(first, orig.i64()[0], orig.i64()[1], resh.i64()[0], resh.i64()[1], true);
    got["masks_float"] =
        proc.sam_post_process_masks(first, orig.i64()[0], orig.i64()[1], resh.i64()[0], resh.i64()[1], false);
    return got;
  }
  ImageInfo info;
  const std::string file = run.path(inputs);
  std::ifstream f(file, std::ios::binary);
  IA_CHECK(f.good(), file, ": cannot open");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const Image img = decode_image_bytes(bytes.data(), bytes.size(), file, &info);
  if (inputs.contains("file_mode"))
    IA_CHECK(info.mode == inputs["file_mode"].get<std::string>(), file, ": decoded as mode ", info.mode,
             " but PIL reports ", inputs["file_mode"].get<std::string>());
  if (inputs.contains("decoded_rgb")) {
    // The decoder itself: libjpeg-turbo with Pillow's settings should give PIL's pixels.
    const Tensor want = run.st_->tensor(inputs["decoded_rgb"]["tensor"].get<std::string>());
    // The fixture bounds the uint8 stages (atol in levels) to allow for other JPEG
    // decoders; the same bound applies to the decoded pixels themselves.
    const json outs = kase.value("outputs", json::object());
    const double level_atol = inputs["decoded_rgb"].value(
        "atol", outs.contains("resized") ? outs["resized"].value("atol", 0.0) : 0.0);
    Check c = compare("decoded_rgb", image_tensor(img), want, level_atol, 0.0, -1.0);
    r.max_abs_err = std::max(r.max_abs_err, c.max_abs);
    if (!c.ok) fail_case(r, c.detail);
  }
  const ImageProcessor::Stages st = proc.run(img);
  got["resized"] = image_tensor(st.resized);
  if (st.cropped.width > 0) got["cropped"] = image_tensor(st.cropped);
  got["pixel_values"] = st.pixel_values;
  got["original_sizes"] = Tensor::from_vector_i64({st.original_h, st.original_w}, {1, 2});
  got["reshaped_input_sizes"] = Tensor::from_vector_i64({st.reshaped_h, st.reshaped_w}, {1, 2});
  const json outputs = kase.value("outputs", json::object());
  if (outputs.contains("input_points_given")) {
    const Tensor given = run.st_->tensor(outputs["input_points_given"]["tensor"].get<std::string>()).to_f32();
    std::vector<double> xy(given.f32(), given.f32() + given.numel());
    const std::vector<double> scaled = proc.sam_rescale_coordinates(xy, st.original_h, st.original_w);
    got["input_points_given"] = given;
    got["input_points"] = Tensor::from_vector(std::vector<float>(scaled.begin(), scaled.end()), given.shape());
  }
  return got;
}

// ---- audio ------------------------------------------------------------------

Audio load_mono_at(const std::string& file, int rate, Audio* resampled_out) {
  Audio a = decode_wav_file(file);
  if (a.sample_rate == rate && a.channels == 1) return a;
  Audio m = resample_audio(downmix_to_mono(a), rate);
  if (resampled_out) *resampled_out = m;
  return m;
}

TensorMap run_audio_case(const AudioFeatureExtractor& fe, const PreprocessReference& run, const json& kase,
                         CaseResult& r) {
  const json inputs = kase.value("inputs", json::object());
  const std::string name = kase.value("name", "");
  TensorMap got;
  if (name == "mel_filters") {
    got["mel_filters"] = fe.mel_filters();
    return got;
  }
  if (inputs.contains("files")) {
    std::vector<Audio> clips;
    for (const auto& f : inputs["files"]) clips.push_back(decode_wav_file((fs::path(run.dir_) / f.get<std::string>()).string()));
    return fe.extract_batch(clips);
  }
  const std::string file = run.path(inputs);
  if (kase.contains("raises")) {
    // transformers rejects this input: the engine must too (no silent resampling).
    const Audio a = decode_wav_file(file);
    try {
      fe.extract(a);
    } catch (const Error& e) {
      r.detail = cat("rejected as transformers does: ", e.what());
      return got;
    }
    fail_case(r, "the engine accepted an input transformers rejects (" +
                                 kase["raises"].value("message", std::string("?")).substr(0, 80) + ")");
    return got;
  }
  Audio resampled;
  const Audio a = load_mono_at(file, fe.sampling_rate(), &resampled);
  got = fe.extract(a);
  if (!resampled.samples.empty())
    got["resampled"] = Tensor::from_vector(resampled.samples, {int64_t(resampled.samples.size())});
  return got;
}

}  // namespace

bool is_preprocess_fixture(const std::string& dir) {
  const fs::path d(dir);
  return fs::exists(d / "preprocessor_config.json") && fs::exists(d / "reference.json") &&
         !fs::exists(d / "config.json");
}

std::vector<CaseResult> verify_preprocess_fixture(const std::string& dir, const std::string& rel,
                                                  const VerifyOptions&) {
  std::vector<CaseResult> out;
  json ref;
  std::shared_ptr<SafetensorsFile> st;
  try {
    std::ifstream in(fs::path(dir) / "reference.json");
    ref = json::parse(in);
    st = SafetensorsFile::open((fs::path(dir) / "reference.safetensors").string());
  } catch (const std::exception& e) {
    out.push_back({CaseStatus::Fail, rel, "load", 0.0, e.what()});
    return out;
  }
  const std::string kind = ref.value("kind", "");
  const json cases = ref.value("cases", json::array());
  std::optional<ImageProcessor> image_proc;
  std::optional<AudioFeatureExtractor> audio_fe;
  try {
    if (kind == "image") image_proc = ImageProcessor::from_dir(dir);
    else if (kind == "audio") audio_fe = AudioFeatureExtractor::from_dir(dir);
    else throw Unsupported(cat("reference.json kind '", kind, "' is not an image or audio fixture"));
  } catch (const std::exception& e) {
    return load_failure_results(rel, cases, e);
  }
  PreprocessReference run(dir, st);
  std::map<std::string, const json*> by_name;
  for (const auto& k : cases) by_name[k.value("name", "")] = &k;
  for (const auto& kase : cases) {
    out.push_back(run_verify_case(rel, kase.value("name", "?"), [&](CaseResult& r) {
      const json* effective = &kase;
      if (image_proc && kase.contains("raises")) {
        // transformers 4.44 raises for a non-RGB array; the engine's decoder
        // converts to RGB first (load_image's route), so it must produce the
        // sibling `<name>_rgb` case's outputs.
        auto sib = by_name.find(r.case_name + "_rgb");
        IA_CHECK(sib != by_name.end(), "transformers raises here and the fixture has no '_rgb' conversion case");
        effective = sib->second;
        r.detail = cat("converted to RGB like case ", r.case_name, "_rgb");
      }
      TensorMap got = image_proc ? run_image_case(*image_proc, run, *effective, r)
                                 : run_audio_case(*audio_fe, run, *effective, r);
      if (!effective->contains("raises")) run.check_outputs(effective->value("outputs", json::object()), got, r);
    }));
  }
  return out;
}

}  // namespace ia
