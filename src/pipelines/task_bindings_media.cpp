// Dispatcher adapters for the image and audio pipelines: audio (whisper,
// wav2vec2), the image family pipelines (vision, vision-text, multimodal),
// SAM mask generation and BLIP captioning.
#include "core/error.h"
#include "pipelines/audio_pipeline.h"
#include "pipelines/captioning_pipeline.h"
#include "pipelines/mask_generation_pipeline.h"
#include "pipelines/task_bindings.h"
#include "pipelines/task_request.h"
#include <cmath>

#include "pipelines/multimodal_pipeline.h"
#include "pipelines/stable_diffusion_task.h"
#include "pipelines/vision_text_pipeline.h"

namespace ia {

using json = nlohmann::json;

namespace {

class AudioBound : public BoundPipeline {
 public:
  explicit AudioBound(const std::string& dir) : p_(dir) {}
  json run(const json& r, const TextStream&) override {
    AudioRequest req;
    req.top_k = request::label_count(r);
    req.task = request::str(r, "task");
    req.inputs = request::path_inputs(r);
    req.language = request::strings(r, "language");
    req.whisper_task = request::str(r, "speech_task");
    req.max_new_tokens = request::integer(r, "max_new_tokens", -1);
    req.chunk_length_s = request::number(r, "chunk_length_s", -1);
    req.stride_length_s = request::number(r, "stride_length_s", -1);
    req.return_timestamps = request::flag(r, "return_timestamps");
    req.return_language = request::flag(r, "return_language");
    return p_.run(req);
  }

 private:
  AudioPipeline p_;
};

// Vision, vision-text and multimodal: the inputs are images.
class ImageFamilyBound : public BoundPipeline {
 public:
  ImageFamilyBound(const std::string& dir, Family family) {
    // The pipeline template of the family, loaded once for every request.
    if (family == Family::VisionText) {
      vision_text_ = std::make_unique<VisionTextPipeline>(dir);
    } else if (family == Family::Multimodal) {
      multimodal_ = std::make_unique<MultimodalPipeline>(dir);
      const ModelContext ctx = ModelContext::open(dir);
      generation_defaults_ = generation_defaults(ctx.generation_config, ctx.config);
    } else {
      image_ = std::make_unique<ImagePipeline>(dir);
    }
  }
  json run(const json& r, const TextStream& on_text) override {
    VisionRequest req;
    req.top_k = request::label_count(r);
    req.task = request::str(r, "task");
    req.images = request::path_inputs(r);
    if (req.images.empty() && !request::str(r, "image").empty()) req.images.push_back(request::str(r, "image"));
    req.candidate_labels = request::comma_list(r, "candidate_labels");
    req.hypothesis_template = request::str(r, "hypothesis_template", req.hypothesis_template);
    req.prompt = request::str(r, "prompt");
    req.max_new_tokens = request::integer(r, "max_new_tokens", -1);
    if (multimodal_) {  // image-text-to-text: the generation config's settings with the request's on top, streamed
      GenerationSettings g = generation_defaults_;
      request::apply_generation(r, g);
      req.generation = g;
      req.on_text = on_text;
    }
    return vision_text_ ? vision_text_->run(req) : multimodal_ ? multimodal_->run(req) : image_->run(req);
  }

 private:
  std::unique_ptr<VisionTextPipeline> vision_text_;
  std::unique_ptr<MultimodalPipeline> multimodal_;
  std::unique_ptr<ImagePipeline> image_;
  GenerationSettings generation_defaults_;
};

// The image of a SAM / BLIP request: "image", else the first input.
std::string single_image(const json& r) {
  std::string image = request::str(r, "image");
  if (image.empty()) {
    auto in = request::strings(r, "inputs");
    if (!in.empty()) image = in[0];
  }
  IA_CHECK(!image.empty(), "no image: give --image FILE (or - for stdin)");
  return image;
}

class MaskGenerationBound : public BoundPipeline {
 public:
  explicit MaskGenerationBound(const std::string& dir) : p_(dir) {}
  json run(const json& r, const TextStream&) override {
    MaskGenerationRequest req;
    req.image = single_image(r);
    const std::string points = request::str(r, "points"), box = request::str(r, "box");
    if (!points.empty()) req.points = parse_points(points);
    if (request::has(r, "labels")) {
      const json& v = r.at("labels");
      req.labels = parse_labels(v.is_string() ? v.get<std::string>() : v.dump());
    }
    if (!box.empty()) req.box = parse_box(box);
    req.multimask = !request::flag(r, "single_mask");
    req.rle = !request::flag(r, "no_rle");
    req.out_dir = request::str(r, "out_dir");
    return p_.run(req);
  }

 private:
  MaskGenerationPipeline p_;
};

class CaptioningBound : public BoundPipeline {
 public:
  explicit CaptioningBound(const std::string& dir) : p_(dir) {}
  json run(const json& r, const TextStream&) override {
    CaptionRequest req;
    req.image = single_image(r);
    req.prompt = request::str(r, "prompt");
    const int64_t n = request::integer(r, "max_new_tokens", -1);
    if (n >= 0) req.max_new_tokens = n;
    return p_.run(req);
  }

 private:
  CaptioningPipeline p_;
};

// Stable Diffusion pipeline directories (model_index.json): text-to-image,
// image-to-image with "image", inpainting with "image" and "mask".
class StableDiffusionBound : public BoundPipeline {
 public:
  explicit StableDiffusionBound(const std::string& dir) : dir_(dir) {}
  json run(const json& r, const TextStream&) override {
    SdTaskArgs a;
    a.model_dir = dir_;
    a.task = request::str(r, "task");
    a.image = request::str(r, "image");
    a.prompt = request::str(r, "prompt");
    if (a.prompt.empty()) {
      auto in = request::strings(r, "inputs");
      if (!in.empty()) a.prompt = in[0];
    }
    a.negative_prompt = request::str(r, "negative_prompt");
    a.mask = request::str(r, "mask");
    a.steps = int(request::integer(r, "steps", -1));
    a.guidance = request::number(r, "guidance", NAN);
    a.strength = request::number(r, "strength", NAN);
    a.height = request::integer(r, "height", 0);
    a.width = request::integer(r, "width", 0);
    a.seed_given = request::has(r, "seed");
    a.seed = request::integer(r, "seed", 0);
    a.scheduler = request::str(r, "scheduler");
    a.out = request::str(r, "out");
    return run_stable_diffusion_task(a);
  }

 private:
  std::string dir_;
};

}  // namespace

std::unique_ptr<BoundPipeline> load_stable_diffusion_binding(const std::string& dir) {
  return std::make_unique<StableDiffusionBound>(dir);
}
std::unique_ptr<BoundPipeline> load_audio_binding(const std::string& dir) { return std::make_unique<AudioBound>(dir); }
std::unique_ptr<BoundPipeline> load_image_family_binding(const std::string& dir, Family family) {
  return std::make_unique<ImageFamilyBound>(dir, family);
}
std::unique_ptr<BoundPipeline> load_mask_generation_binding(const std::string& dir) {
  return std::make_unique<MaskGenerationBound>(dir);
}
std::unique_ptr<BoundPipeline> load_captioning_binding(const std::string& dir) {
  return std::make_unique<CaptioningBound>(dir);
}

}  // namespace ia
