// Vision-text architecture template: registration (CLIP).
#include "templates/family.h"
#include "templates/model.h"
#include "templates/vision_text/clip_model.h"

namespace ia {

FamilyTemplate vision_text_template() { return {Family::VisionText, {"clip"}, make_clip_model}; }

}  // namespace ia
