// Detection: which model type, architecture family and default task a model is.
//
// From a directory the answer is read, not guessed: config.json's model_type is
// looked up in the registry (confidence 1), and the head class in `architectures`
// decides the task (*ForMaskedLM -> fill-mask, *ForCausalLM -> text-generation...).
//
// From a bare name or hub id ("openai/clip-vit-base-patch32") the answer is a
// documented best guess with a confidence and the rule that matched:
//   1. normalise: lower case, '_' and spaces -> '-', drop a huggingface.co URL prefix,
//      split "org/name";
//   2. candidates are hand-written aliases (sam-vit -> sam, qwen1.5-moe -> qwen2_moe,
//      deepseek-v2 -> MoE...) and every registry model_type with its spelling variants
//      (qwen2_moe: qwen2-moe, qwen2moe; phi3: phi-3). A candidate must sit on word
//      boundaries: it starts the name or follows a separator, it is not followed by a
//      letter, and a candidate ending in a digit is not followed by a digit or '.'
//      ("mamba-2.8b" is Mamba 1 with 2.8B parameters, not mamba2);
//   3. the most specific candidate wins: one starting the name beats one inside it
//      (hub names lead with the architecture: detr-resnet-50 is DETR), then the longest,
//      then an alias over a generated spelling;
//   4. markers of sparse experts ("moe" token, "8x7b", "-a2.7b") turn a dense
//      decoder guess into mixture-of-experts;
//   5. with nothing in the name, the organisation is tried (state-spaces -> mamba).
#pragma once
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "registry/model_types.h"

namespace ia {

struct Detection {
  std::string input;
  std::string source;                // "directory" or "name"
  std::string model_type;            // "" when nothing matched
  const ModelTypeInfo* info = nullptr;  // registry entry; nullptr if not a 4.44.2 model_type
  bool family_known = false;
  Family family = Family::Other;
  std::string task;                  // default task ("" when unknown)
  std::string architecture;          // config.json architectures[0] (directories)
  double confidence = 0.0;           // 0..1
  std::string rule;                  // the rule that decided
  std::vector<std::string> notes;    // further evidence (sub-configs, modifiers)

  bool supported() const;            // a compiled template implements model_type
};

// Reads DIR/config.json. Throws ia::Error when DIR is not a model directory
// (missing or malformed config.json).
Detection detect_from_dir(const std::string& dir);
// Best guess from a model name or hub id; never throws.
Detection detect_from_name(const std::string& name);
// A directory when `name_or_dir` exists or is spelled as a path (/..., ./..., ../..., ~...;
// a missing one throws), otherwise a name or hub id.
Detection detect(const std::string& name_or_dir);

// Task served by a head class (architectures[0]) given the model's registry entry
// (may be null) and family; falls back to the registry/family default.
std::string task_for_architecture(const std::string& architecture, const ModelTypeInfo* info, Family family);
// Default task of a family when no model type is known.
const char* family_default_task(Family f);

nlohmann::json detection_to_json(const Detection& d);

}  // namespace ia
