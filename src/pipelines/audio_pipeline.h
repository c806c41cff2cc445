// The audio pipeline template: WAV files in, the task's result JSON out.
//   automatic-speech-recognition -> "transcription": {"text", "all_texts"[, "chunks"]}
//     Whisper: audio longer than one feature-extractor window (30 s) is cut as
//     the transformers pipeline does with chunk_length_s (default here: the
//     window length, strides of chunk_length/6 on both sides): overlapping
//     windows, each transcribed by generate(), merged by whisper_decode_asr
//     (longest common token sequence; timestamps inside strides deferred).
//     With return_timestamps, "chunks" holds {text, timestamp: [start, end]}
//     segments (and "language" with return_language). chunk_length_s = 0 keeps
//     the whole clip, which Whisper can only take up to one window (sequential
//     long-form generation is not implemented).
//     wav2vec2 (CTC head): greedy CTC decoding of the whole clip — argmax per
//     frame, repeats collapsed, the pad (blank) token dropped, the word delimiter
//     turned into a space (Wav2Vec2CTCTokenizer.decode, skip_special_tokens=False
//     as the pipeline calls it).
//   audio-classification -> "classification": {"results": [{label, score}], "top_label", "top_score"}
// Audio with another sampling rate or several channels is down-mixed and
// resampled to the feature extractor's rate first, as the transformers pipeline
// does with file inputs.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "templates/model.h"

namespace ia {

struct AudioRequest {
  std::string task;                  // empty = the model's first task
  std::vector<std::string> inputs;   // WAV file paths; "-" reads a WAV from stdin
  std::vector<std::string> language; // Whisper: one language, or one per input
  std::string whisper_task;          // Whisper: "transcribe" / "translate" (empty = generation config)
  int64_t max_new_tokens = -1;       // Whisper: -1 = from generation_config (max_length)
  double chunk_length_s = -1;        // Whisper: -1 = one window when the audio is longer; 0 = no chunking
  double stride_length_s = -1;       // Whisper: -1 = chunk_length_s / 6
  bool return_timestamps = false;    // Whisper: segment timestamps in "chunks"
  bool return_language = false;      // Whisper: each chunk's language in "chunks"
  int64_t top_k = 5;                 // audio-classification
};

class AudioPipeline {
 public:
  explicit AudioPipeline(const std::string& model_dir);
  ~AudioPipeline();
  // True when the directory's model belongs to the speech family (config.json model_type).
  static bool handles(const std::string& model_dir);
  // Never throws: failures become {"success": false, "error": ...}.
  nlohmann::json run(const AudioRequest& req);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Wav2Vec2CTCTokenizer-style CTC decoding of per-frame token ids with the vocab
// of vocab.json / tokenizer_config.json in `model_dir` (tokenizer.json's CTC
// decoder when there is no vocab.json).
class CtcDecoder {
 public:
  static CtcDecoder from_dir(const std::string& model_dir, int64_t vocab_size);
  std::string decode(const std::vector<int64_t>& frame_ids) const;

 private:
  std::vector<std::string> vocab_;
  std::string pad_ = "<pad>", delimiter_ = "|";
  bool lower_ = false, cleanup_ = true;
};

}  // namespace ia
