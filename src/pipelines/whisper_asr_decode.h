// Turning Whisper's generated rows into the ASR pipeline's text and chunks, as
// transformers 4.44.2 does in tokenization_whisper._decode_asr: special tokens
// dropped (language tokens remembered), timestamp tokens opening and closing
// segments, and overlapping windows of chunked audio merged by
// _find_longest_common_sequence, with timestamps inside a window's strides
// deferred to the neighbouring window. Word-level timestamps (cross-attention
// alignment) are not implemented.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ia {

// One generated row of one audio window; the stride is in seconds
// (window length, overlap with the previous window, overlap with the next).
struct WhisperWindowTokens {
  std::vector<int64_t> tokens;
  bool has_stride = false;
  double chunk_len = 0, stride_left = 0, stride_right = 0;
};

struct WhisperAsrVocab {
  int64_t timestamp_begin = 0;          // <|notimestamps|> + 1
  std::set<int64_t> special_ids;        // tokenizer.all_special_ids
  std::optional<int64_t> prompt_id;     // <|startofprev|>
  std::optional<int64_t> decoder_start; // <|startoftranscript|>
  std::function<std::string(const std::vector<int64_t>&)> decode;  // plain decode of text tokens
};

struct WhisperAsrChunk {
  std::string text;
  std::optional<double> start, end;
  std::optional<std::string> language;  // the language's name ("english"), when a language token was seen
};

struct WhisperAsrResult {
  std::string text;
  std::vector<WhisperAsrChunk> chunks;  // filled when timestamps or languages are asked for
};

// time_precision: seconds per timestamp step (feature extractor chunk_length / max_source_positions).
WhisperAsrResult whisper_decode_asr(const WhisperAsrVocab& vocab, const std::vector<WhisperWindowTokens>& windows,
                                    bool return_timestamps, bool return_language, double time_precision);

// _find_longest_common_sequence: consecutive windows' token lists merged at their best overlap.
std::vector<int64_t> whisper_merge_overlapping(const std::vector<std::vector<int64_t>>& sequences);

// Python's round(x, 2).
double round2(double x);

}  // namespace ia
