// Routes `run` requests for the vision, vision-text and multimodal families to
// their pipeline templates (image_pipeline, vision_text_pipeline,
// multimodal_pipeline); other families stay with the text pipeline.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "pipelines/image_pipeline.h"

namespace ia {

// True when config.json's model_type belongs to one of these families (false on any error:
// the text pipeline then reports it).
bool is_image_family_dir(const std::string& model_dir);
// The pipeline result (never throws).
nlohmann::json run_image_family_pipeline(const std::string& model_dir, const VisionRequest& req);

}  // namespace ia
