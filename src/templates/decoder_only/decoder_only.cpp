// Decoder-only architecture template (GPT/LLaMA family). Filled in by the decoder-only work.
#include "templates/family.h"
#include "templates/model.h"

namespace ia {

FamilyTemplate decoder_only_template() {
  return {Family::DecoderOnly, {}, [](const ModelContext& ctx) -> std::unique_ptr<Model> { return nullptr; }};
}

}  // namespace ia
