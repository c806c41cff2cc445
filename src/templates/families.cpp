// The table of implemented architecture templates. Each family lives in its
// own folder/file and exposes one registration function declared here.
#include <algorithm>

#include "templates/family.h"
#include "templates/model.h"

namespace ia {

FamilyTemplate encoder_only_template();  // templates/encoder_only/
FamilyTemplate decoder_only_template();  // templates/decoder_only/
FamilyTemplate encoder_decoder_template();  // templates/encoder_decoder/
FamilyTemplate moe_template();              // templates/moe/
FamilyTemplate state_space_template();      // templates/state_space/
FamilyTemplate speech_template();           // templates/speech/
FamilyTemplate vision_template();           // templates/vision/
FamilyTemplate vision_text_template();      // templates/vision_text/
FamilyTemplate multimodal_template();       // templates/multimodal/
FamilyTemplate sam_template();              // templates/sam/
FamilyTemplate blip_template();             // templates/blip/
FamilyTemplate rag_template();              // templates/rag/

const char* family_name(Family f) {
  switch (f) {
    case Family::EncoderOnly: return "encoder-only";
    case Family::DecoderOnly: return "decoder-only";
    case Family::EncoderDecoder: return "encoder-decoder";
    case Family::Vision: return "vision";
    case Family::VisionText: return "vision-text";
    case Family::Speech: return "speech";
    case Family::Multimodal: return "multimodal";
    case Family::Diffusion: return "diffusion";
    case Family::MixtureOfExperts: return "mixture-of-experts";
    case Family::StateSpace: return "state-space";
    case Family::Rag: return "rag";
    case Family::Other: return "other";
  }
  return "?";
}

const std::vector<Family>& all_families() {
  static const std::vector<Family> v = {Family::EncoderOnly, Family::DecoderOnly,      Family::EncoderDecoder,
                                        Family::Vision,      Family::VisionText,       Family::Speech,
                                        Family::Multimodal,  Family::Diffusion,        Family::MixtureOfExperts,
                                        Family::StateSpace,  Family::Rag};
  return v;
}

bool family_from_name(const std::string& s, Family* out) {
  for (Family f : all_families())
    if (s == family_name(f)) {
      *out = f;
      return true;
    }
  if (s == "other") {
    *out = Family::Other;
    return true;
  }
  return false;
}

const std::vector<FamilyTemplate>& family_templates() {
  // One line per family template.
  static const std::vector<FamilyTemplate> t = {
      encoder_only_template(),
      decoder_only_template(),
      encoder_decoder_template(),
      moe_template(),
      state_space_template(),
      speech_template(),
      vision_template(),
      vision_text_template(),
      multimodal_template(),
      sam_template(),
      blip_template(),
      rag_template(),
  };
  return t;
}

const FamilyTemplate* find_template(const std::string& model_type) {
  for (const auto& t : family_templates())
    if (std::find(t.model_types.begin(), t.model_types.end(), model_type) != t.model_types.end()) return &t;
  return nullptr;
}

std::vector<std::string> supported_model_types() {
  std::vector<std::string> r;
  for (const auto& t : family_templates()) r.insert(r.end(), t.model_types.begin(), t.model_types.end());
  std::sort(r.begin(), r.end());
  return r;
}

}  // namespace ia
