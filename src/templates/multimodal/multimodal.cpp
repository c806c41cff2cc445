// Multimodal architecture template: registration (LLaVA).
#include "templates/family.h"
#include "templates/model.h"
#include "templates/multimodal/llava_model.h"

namespace ia {

FamilyTemplate multimodal_template() { return {Family::Multimodal, {"llava"}, make_llava_model}; }

}  // namespace ia
