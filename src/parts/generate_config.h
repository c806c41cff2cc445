// The generation_config.json fields greedy decoding honours, taken from the file
// transformers 4.44.2 generate() takes them from:
//   * no generation_config.json: GenerationConfig.from_model_config(config);
//   * generation_config.json written from the model config ("_from_model_config")
//     while config.json holds non-default generation parameters: again the model
//     config (the legacy path of _prepare_generation_config);
//   * otherwise generation_config.json alone (missing keys = GenerationConfig defaults).
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "formats/hf_config.h"

namespace ia {

struct GenerateConfig {
  std::vector<int64_t> eos_ids;
  std::optional<int64_t> pad_id, bos_id, decoder_start_id;
  std::optional<int64_t> forced_bos_id;
  std::vector<int64_t> forced_eos_ids;  // forced_eos_token_id (int or list)
  int64_t max_length = 20;              // used when the caller gives no max_new_tokens
  std::optional<int64_t> max_new_tokens;
  int64_t min_length = 0, min_new_tokens = 0;
  int64_t no_repeat_ngram_size = 0, encoder_no_repeat_ngram_size = 0;
  double repetition_penalty = 1.0, encoder_repetition_penalty = 1.0;
  std::vector<std::vector<int64_t>> bad_words_ids;
  std::vector<int64_t> suppress_tokens, begin_suppress_tokens;
  bool remove_invalid_values = false, renormalize_logits = false;
  std::optional<std::pair<int64_t, double>> exponential_decay_length_penalty;  // (start_index, decay_factor)
};

// `gen` may be null (no generation_config.json). `class_defaults` holds the model
// config class's own defaults for keys config.json may omit (e.g. BartConfig's
// forced_eos_token_id = 2). Errors name the file and field.
GenerateConfig read_generate_config(const HFConfig* gen, const HFConfig& config,
                                            const nlohmann::json& class_defaults = nlohmann::json::object());

}  // namespace ia
