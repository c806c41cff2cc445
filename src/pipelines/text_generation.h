// Text generation on any StepDecoder: prompt -> tokens, sampled one at a time
// with the transformers processors (sampling.h), stopped by EOS, stop strings or
// max_new_tokens, streamed as UTF-8-complete text pieces.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "formats/hf_config.h"
#include "pipelines/sampling.h"
#include "templates/model.h"
#include "tokenizers/tokenizer.h"

namespace ia {

struct GenerationSettings {
  int64_t max_new_tokens = 20;  // transformers' default max_length=20 is total; we count new tokens
  SamplingParams sampling;
  std::vector<int64_t> eos_token_ids;
  std::vector<std::string> stop_strings;
  bool add_special_tokens = true;
};

// Defaults from generation_config.json (do_sample, temperature, top_k, top_p, min_p,
// repetition_penalty, max_new_tokens, eos_token_id), then config.json's eos_token_id.
GenerationSettings generation_defaults(const std::optional<HFConfig>& generation_config, const HFConfig& config);

struct GenerationOutput {
  std::string text;                 // generated text (stop string and EOS excluded)
  std::vector<int64_t> prompt_ids;
  std::vector<int64_t> new_ids;     // generated ids (EOS included when it ended generation)
  std::string finish_reason;        // "eos", "stop", "length"
  double prefill_seconds = 0, decode_seconds = 0;
};

// `on_text` receives each newly completed piece of text as soon as it is known.
GenerationOutput generate_text(StepDecoder& model, const Tokenizer& tok, const std::string& prompt,
                               const GenerationSettings& s, const std::function<void(const std::string&)>& on_text = {});

}  // namespace ia
