#include "pipelines/pipeline_templates.h"

#include <algorithm>

namespace ia {

const std::vector<PipelineTemplate>& pipeline_templates() {
  using F = Family;
  static const std::vector<PipelineTemplate> t = {
      {"text", "text", "text", true, {F::EncoderOnly, F::DecoderOnly, F::EncoderDecoder},
       {{"text-generation", "generated_text"},
        {"feature-extraction", "embeddings"},
        {"fill-mask", "predictions"},
        {"text-classification", "classification"},
        {"token-classification", "entities"},
        {"question-answering", "answer"},
        {"text2text-generation", "generated_text"},
        {"summarization", "summary"},
        {"translation", "translation"}}},
      {"image", "image", "labels/embeddings", true, {F::Vision},
       {{"image-classification", "classifications"}, {"image-feature-extraction", "embeddings"}}},
      {"vision-text", "image+text", "scores/text", true, {F::VisionText},
       {{"zero-shot-image-classification", "similarity"},
        {"image-text-similarity", "similarity"},
        {"image-to-text", "caption"},
        {"visual-question-answering", "visual_qa"}}},
      {"audio", "audio", "text/labels", true, {F::Speech},
       {{"automatic-speech-recognition", "transcription"}, {"audio-classification", "classification"}}},
      {"multimodal", "image+text", "text", false, {F::Multimodal},
       {{"image-text-to-text", "generated_text"}, {"visual-question-answering", "multimodal_qa"}}},
      {"diffusion", "text/image", "image/masks", false, {F::Diffusion},
       {{"text-to-image", "diffusion_output"}, {"image-to-image", "diffusion_output"},
        {"mask-generation", "segmentation_output"}}},
      {"moe", "text", "text", true, {F::MixtureOfExperts},
       {{"text-generation", "moe_generation"},
        {"text-classification", "moe_classification"},
        {"feature-extraction", "moe_output"},
        {"text2text-generation", "moe_generation"}}},
      {"state-space", "text", "text", true, {F::StateSpace},
       {{"text-generation", "state_space_generation"},
        {"text-classification", "state_space_classification"},
        {"feature-extraction", "state_space_output"}}},
      {"rag", "text", "text", false, {F::Rag},
       {{"generative-qa", "rag_qa"}, {"document-retrieval", "rag_retrieval"}}},
  };
  return t;
}

const PipelineTemplate* find_pipeline(const std::string& name) {
  for (const auto& p : pipeline_templates())
    if (p.name == name) return &p;
  return nullptr;
}

const PipelineTemplate* pipeline_for_family(Family f) {
  for (const auto& p : pipeline_templates())
    if (std::find(p.families.begin(), p.families.end(), f) != p.families.end()) return &p;
  return nullptr;
}

}  // namespace ia
