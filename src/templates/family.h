// The 11 architecture families and the registry of family templates.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ia {

enum class Family {
  EncoderOnly,
  DecoderOnly,
  EncoderDecoder,
  Vision,
  VisionText,
  Speech,
  Multimodal,
  Diffusion,
  MixtureOfExperts,
  StateSpace,
  Rag,
  Other,  // known to transformers but outside the 11 families
};

const char* family_name(Family f);  // "encoder-only", "decoder-only", ...
bool family_from_name(const std::string& s, Family* out);
const std::vector<Family>& all_families();  // the 11, in order

class Model;
struct ModelContext;

// One architecture template: the model types it implements and how to build them.
struct FamilyTemplate {
  Family family;
  std::vector<std::string> model_types;  // supported model_type values
  std::function<std::unique_ptr<Model>(const ModelContext&)> build;
};

// Every implemented family template (see templates/families.cpp).
const std::vector<FamilyTemplate>& family_templates();
// The template implementing `model_type`, or nullptr.
const FamilyTemplate* find_template(const std::string& model_type);
std::vector<std::string> supported_model_types();

}  // namespace ia
