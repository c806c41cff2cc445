#include "pipelines/vision_dispatch.h"

#include "pipelines/multimodal_pipeline.h"
#include "pipelines/pipeline_result.h"
#include "pipelines/vision_text_pipeline.h"
#include "templates/family.h"

namespace ia {

namespace {
const FamilyTemplate* template_of(const std::string& dir) {
  try {
    return find_template(ModelContext::open(dir).model_type);
  } catch (const std::exception&) {
    return nullptr;
  }
}
}  // namespace

bool is_image_family_dir(const std::string& dir) {
  const FamilyTemplate* t = template_of(dir);
  return t && (t->family == Family::Vision || t->family == Family::VisionText || t->family == Family::Multimodal);
}

nlohmann::json run_image_family_pipeline(const std::string& dir, const VisionRequest& req) {
  try {
    const FamilyTemplate* t = template_of(dir);
    if (t && t->family == Family::VisionText) return VisionTextPipeline(dir).run(req);
    if (t && t->family == Family::Multimodal) return MultimodalPipeline(dir).run(req);
    return ImagePipeline(dir).run(req);
  } catch (const std::exception& e) {
    return error_result(e.what());
  }
}

}  // namespace ia
