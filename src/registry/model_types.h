// The model-type registry: every `model_type` that transformers 4.44.2 knows
// (its CONFIG_MAPPING_NAMES), mapped to one of the 11 architecture families or
// marked as outside them with the reason. The table is hand-checked data
// (model_types.cpp); support status is never stored in it but derived from the
// family templates compiled into this build (templates/family.h).
//
// How families are assigned (what the model *is*, not what the original system guessed):
//   encoder-only       bidirectional text encoders (BERT and relatives, DPR, document/markup
//                      encoders that read text + 2-D positions only)
//   decoder-only       causal language models with dense feed-forward layers
//   encoder-decoder    text-to-text seq2seq (T5, BART, Marian...)
//   vision             image/video backbones and heads (classification, detection, segmentation)
//   vision-text        models that jointly encode or align images and text, or turn an image
//                      into text with a purpose-built decoder (CLIP, BLIP, OWL-ViT, TrOCR, GIT)
//   speech             audio in or audio out (ASR, audio classification, TTS, codecs, music)
//   multimodal         a language model fed with another modality through a projector (LLaVA,
//                      BLIP-2, IDEFICS, PaliGemma) or models over other modality combinations
//   diffusion          SAM (the project mission groups "Stable Diffusion, SAM"; transformers
//                      4.44.2 has no diffusion model_type — those live in diffusers)
//   mixture-of-experts sparse expert feed-forward layers decide the template (Mixtral, DBRX...)
//   state-space        recurrent/selective-state sequence mixers (Mamba, RWKV, Griffin, Jamba)
//   rag                retrieval-augmented generation (retriever + generator)
//   other              time series, reinforcement learning, graphs, depth estimation
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "templates/family.h"

namespace ia {

// Number of entries in CONFIG_MAPPING_NAMES of transformers 4.44.2
// (/work/tf/src/transformers/models/auto/configuration_auto.py, counted by parsing
// the OrderedDict literal: 264 keys, all distinct).
inline constexpr std::size_t kTransformers4442ModelTypeCount = 264;

struct ModelTypeInfo {
  const char* model_type;    // config.json "model_type", exactly as transformers spells it
  const char* display_name;  // MODEL_NAMES_MAPPING display name
  Family family;
  const char* default_task;  // task of the model's primary head (pipeline task names where one exists)
  const char* note;          // why this family when it is not obvious; required for Family::Other
};

// The full table, sorted by model_type (the order of CONFIG_MAPPING_NAMES).
const std::vector<ModelTypeInfo>& model_type_table();
// Entry for a model_type, or nullptr when transformers 4.44.2 does not know it.
const ModelTypeInfo* find_model_type(std::string_view model_type);

// Support status derived from the compiled family templates (find_template).
enum class SupportStatus { Supported, NotYet };
SupportStatus support_status(const ModelTypeInfo& info);
const char* support_status_name(SupportStatus s);  // "supported" / "not yet"

// Per-family counts for the coverage report.
struct FamilyCoverage {
  Family family;
  std::size_t total = 0;
  std::size_t supported = 0;
};
struct CoverageSummary {
  std::vector<FamilyCoverage> families;  // the 11 in order, then Other
  std::size_t total = 0;
  std::size_t supported = 0;
};
CoverageSummary coverage_summary();

}  // namespace ia
