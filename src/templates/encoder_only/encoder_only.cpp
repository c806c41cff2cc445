// Encoder-only architecture template (BERT family). Filled in by the encoder-only work.
#include "templates/family.h"
#include "templates/model.h"

namespace ia {

FamilyTemplate encoder_only_template() {
  return {Family::EncoderOnly, {}, [](const ModelContext& ctx) -> std::unique_ptr<Model> { return nullptr; }};
}

}  // namespace ia
