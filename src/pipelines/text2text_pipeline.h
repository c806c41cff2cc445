// The text2text-generation / summarization / translation pipeline for
// encoder-decoder models (T5, BART, switch_transformers): the input is encoded
// once, the decoder starts from decoder_start_token_id and runs with the model's
// generation processors (forced BOS/EOS, min length, no-repeat n-grams, ...).
// Decoding: greedy, sampling (temperature / top-k / top-p, seeded) or beam search
// as 4.44's BeamSearchScorer (num_beams, length_penalty, early_stopping,
// num_return_sequences). Result keys: generated_text / summary / translation.
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "parts/generate_config.h"
#include "pipelines/beam_search.h"
#include "pipelines/text_pipeline.h"

namespace ia {

class EncDecModel;

struct Text2TextSettings {
  GenerationSettings generation;  // max_new_tokens, sampling, eos ids
  int64_t num_beams = 1;
  double length_penalty = 1.0;
  EarlyStopping early_stopping = EarlyStopping::False;
  int64_t num_return_sequences = 1;
};

struct Text2TextOutput {
  std::vector<int64_t> source_ids;
  std::vector<std::vector<int64_t>> sequences;  // generated ids (decoder start excluded), best first
  std::vector<double> scores;                   // beam scores (beam search only)
  std::vector<std::string> texts;
  std::string finish_reason;                    // "eos" or "length" (of the first sequence)
  double encode_seconds = 0, decode_seconds = 0;
};

// Runs one input through `m`. on_text streams the first sequence (greedy/sampling only).
Text2TextOutput text2text_generate(EncDecModel& m, const Tokenizer& tok, const std::string& input,
                                   const Text2TextSettings& s, const std::function<void(const std::string&)>& on_text = {});

// Beam search on token ids with the logits processors of `g` (its eos ids are
// replaced by b.eos_ids): the sequences as generate() returns them, and scores.
BeamResult beam_generate(EncDecModel& m, const std::vector<int64_t>& source, const BeamSettings& b, GenerateConfig g);

class Text2TextPipeline {
 public:
  explicit Text2TextPipeline(const std::string& model_dir);
  // Never throws: failures become {"success": false, "error": ...}.
  nlohmann::json run(const TextRequest& req, const Text2TextSettings& s);
  // generation_config.json / config.json defaults (num_beams, length_penalty, early_stopping, ...).
  Text2TextSettings defaults() const;
  Model& model() { return text_.model(); }
  const Tokenizer& tokenizer() const { return text_.tokenizer(); }

 private:
  TextPipeline text_;
  EncDecModel* model_ = nullptr;
  ModelContext ctx_;
};

// Parses early_stopping as GenerationConfig does: true / false / "never".
EarlyStopping early_stopping_from(const nlohmann::json& v);

}  // namespace ia
