#include "cli/run_image_tasks.h"

#include <filesystem>

#include "core/error.h"
#include "formats/hf_config.h"
#include "pipelines/captioning_pipeline.h"
#include "pipelines/mask_generation_pipeline.h"
#include "pipelines/pipeline_result.h"

namespace ia::cli {

namespace {

std::string model_type_of(const std::string& dir) {
  const auto path = std::filesystem::path(dir) / "config.json";
  if (!std::filesystem::exists(path)) return "";
  try {
    return HFConfig::load(path.string()).get_string("model_type", "");
  } catch (const std::exception&) {
    return "";  // the text pipeline reports the malformed config
  }
}

}  // namespace

std::optional<nlohmann::json> run_image_task(const ImageTaskArgs& a) {
  const std::string mt = model_type_of(a.model_dir);
  // Only SAM / BLIP checkpoints: other families serve these task names through their own pipelines.
  const bool masks = mt == "sam" && (a.task.empty() || a.task == "mask-generation");
  const bool caption =
      mt == "blip" && (a.task.empty() || a.task == "image-to-text" || a.task == "visual-question-answering");
  if (!masks && !caption) return std::nullopt;
  try {
    IA_CHECK(!a.image.empty(), "no image: give --image FILE (or - for stdin)");
    if (masks) {
      MaskGenerationRequest req;
      req.image = a.image;
      if (!a.points.empty()) req.points = parse_points(a.points);
      if (!a.labels.empty()) req.labels = parse_labels(a.labels);
      if (!a.box.empty()) req.box = parse_box(a.box);
      req.multimask = !a.single_mask;
      req.rle = !a.no_rle;
      req.out_dir = a.out_dir;
      return MaskGenerationPipeline(a.model_dir).run(req);
    }
    CaptionRequest req;
    req.image = a.image;
    req.prompt = a.prompt;
    if (a.max_new_tokens >= 0) req.max_new_tokens = a.max_new_tokens;
    return CaptioningPipeline(a.model_dir).run(req);
  } catch (const std::exception& e) {
    return error_result(e.what());
  }
}

}  // namespace ia::cli
