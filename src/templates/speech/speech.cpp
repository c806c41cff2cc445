// Speech architecture template: registration of whisper and wav2vec2.
#include "templates/family.h"
#include "templates/speech/wav2vec2_model.h"
#include "templates/speech/whisper_model.h"

namespace ia {

FamilyTemplate speech_template() {
  return {Family::Speech, {"wav2vec2", "whisper"}, [](const ModelContext& ctx) -> std::unique_ptr<Model> {
            if (ctx.model_type == "whisper") return std::make_unique<WhisperModel>(ctx);
            return std::make_unique<Wav2Vec2Model>(ctx);
          }};
}

}  // namespace ia
