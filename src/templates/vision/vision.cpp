// Vision architecture template: registration (ViT; CLIP's stand-alone vision tower).
#include "templates/family.h"
#include "templates/model.h"
#include "templates/vision/vit_model.h"
#include "templates/vision_text/clip_model.h"

namespace ia {

FamilyTemplate vision_template() {
  return {Family::Vision, {"vit", "clip_vision_model"}, [](const ModelContext& ctx) -> std::unique_ptr<Model> {
            if (ctx.model_type == "clip_vision_model") return make_clip_vision_model(ctx);
            return make_vit_model(ctx);
          }};
}

}  // namespace ia
