// The dispatcher's adapters (task_bindings_*.cpp), one per pipeline, listed in
// task_dispatch.cpp's binding table.
#pragma once
#include <memory>
#include <string>

#include "pipelines/task_dispatch.h"

namespace ia {

std::unique_ptr<BoundPipeline> load_text_binding(const std::string& dir, Family family);
std::unique_ptr<BoundPipeline> load_text2text_binding(const std::string& dir);
std::unique_ptr<BoundPipeline> load_moe_binding(const std::string& dir);
std::unique_ptr<BoundPipeline> load_state_space_binding(const std::string& dir);
std::unique_ptr<BoundPipeline> load_audio_binding(const std::string& dir);
std::unique_ptr<BoundPipeline> load_image_family_binding(const std::string& dir, Family family);
std::unique_ptr<BoundPipeline> load_mask_generation_binding(const std::string& dir);
std::unique_ptr<BoundPipeline> load_captioning_binding(const std::string& dir);
std::unique_ptr<BoundPipeline> load_stable_diffusion_binding(const std::string& dir);
std::unique_ptr<BoundPipeline> load_rag_binding(const std::string& dir);

}  // namespace ia
