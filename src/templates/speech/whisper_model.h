// Whisper (WhisperForConditionalGeneration, WhisperModel): the audio encoder of
// whisper_encoder.h feeding the encoder-decoder template's decoder (pre-norm
// BART-style blocks, learned positions from 0, proj_out tied to the token
// embedding) through set_encoder_output.
//
// generate() follows WhisperGenerationMixin.generate of transformers 4.44.2 for
// short-form audio (one 30 s window): init tokens <|startoftranscript|> [lang]
// [task] [<|notimestamps|>] from generation_config.json (forced_decoder_ids,
// lang_to_id, task_to_id, no_timestamps_token_id, is_multilingual) and the
// request's language/task (language detection when a multilingual model gets
// none), suppress_tokens and begin_suppress_tokens from the first generated
// step, greedy decoding, then Whisper's post-processing of the sequences
// (trailing pad/EOS removal, timestamp-pair segment cut, right padding).
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "templates/encoder_decoder/encdec_model.h"
#include "templates/speech/whisper_encoder.h"

namespace ia {

// The Whisper keys of the generation config (generation_config.json, or config.json
// when there is none: GenerationConfig.from_model_config keeps every key).
struct WhisperPromptConfig {
  int64_t decoder_start = 50257, pad = 50256, vocab = 0, max_target_positions = 448;
  std::optional<int64_t> no_timestamps_id;
  std::optional<int64_t> max_initial_timestamp_index;  // WhisperTimeStampLogitsProcessor
  std::optional<int64_t> eos, bos;
  std::optional<std::map<std::string, int64_t>> lang_to_id, task_to_id;
  std::optional<bool> is_multilingual;
  std::vector<std::pair<int64_t, std::optional<int64_t>>> forced_decoder_ids;  // (position, token or None)
};

WhisperPromptConfig whisper_prompt_config(const ModelContext& ctx, int64_t vocab, int64_t max_target_positions);

// _retrieve_init_tokens: one init-token row per batch row. `detect` returns the
// detected language token per row (called only when language detection is needed).
std::vector<std::vector<int64_t>> whisper_init_tokens(const WhisperPromptConfig& c,
                                                      const std::vector<std::string>& language,
                                                      const std::string& task, int64_t batch,
                                                      const std::function<std::vector<int64_t>()>& detect,
                                                      bool return_timestamps = false);

// Short-form post-processing of one generated row (init tokens + new tokens).
std::vector<int64_t> whisper_finish_row(std::vector<int64_t> seq, int64_t pad, int64_t timestamp_begin);

// Whisper-only generate() options.
struct WhisperDecodeOptions {
  // Predict timestamp tokens (no <|notimestamps|> in the prompt; the timestamp
  // rules of whisper_timestamps.h applied after the generation config's processors).
  bool return_timestamps = false;
};

class WhisperModel : public EncDecModel {
 public:
  explicit WhisperModel(const ModelContext& ctx);
  Family family() const override { return Family::Speech; }
  // input_features [B, mel, 2*max_source_positions], decoder_input_ids [B, T],
  // decoder_attention_mask (optional) -> logits [B, T, vocab] (WhisperModel:
  // last_hidden_state) and encoder_last_hidden_state.
  TensorMap forward(const TensorMap& inputs) override;
  // input_features [B, ...] -> sequences (init tokens + generated), step_logits, step_scores.
  TensorMap generate(const TensorMap& inputs, const GenerateOptions& opts) override;
  TensorMap generate(const TensorMap& inputs, const GenerateOptions& opts, const WhisperDecodeOptions& whisper);
  nlohmann::json describe() const override;
  std::vector<std::string> tasks() const override;

  // Runs the audio encoder and hands its states to the decoder.
  void encode_audio(const Tensor& features);
  const WhisperPromptConfig& prompt_config() const { return prompt_; }
  const WhisperEncoder& audio_encoder() const { return encoder_; }

 private:
  std::vector<int64_t> detect_language(int64_t batch);

  WhisperEncoderGeometry geo_;
  WhisperEncoder encoder_;
  WhisperPromptConfig prompt_;
  std::vector<float> audio_states_;
};

}  // namespace ia
