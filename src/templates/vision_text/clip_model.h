// The vision-text template (CLIP) and CLIP's stand-alone vision tower:
//   model_type "clip":              CLIPModel (text/image embeddings, logits_per_image/_text),
//                                   CLIPForImageClassification (mean of patch tokens -> classifier)
//   model_type "clip_vision_model": CLIPVisionModel, CLIPVisionModelWithProjection
#pragma once
#include <memory>

#include "templates/model.h"

namespace ia {

std::unique_ptr<Model> make_clip_model(const ModelContext& ctx);
std::unique_ptr<Model> make_clip_vision_model(const ModelContext& ctx);

// L2-normalises each row of x [rows, n] in place (x / ||x||, as CLIPModel does).
void l2_normalize_rows(float* x, int64_t rows, int64_t n);

}  // namespace ia
