// The audio feature extractors of transformers 4.44.2, driven by
// preprocessor_config.json:
//  * WhisperFeatureExtractor: pad/truncate to n_samples, STFT (periodic Hann,
//    centre reflect padding, last frame dropped), power spectrum, slaney mel
//    bank (0..8000 Hz), log10, dynamic range clamp (max - 8), (x + 4) / 4
//    -> {"input_features" [B, feature_size, frames]};
//  * Wav2Vec2FeatureExtractor: zero-mean unit-variance normalisation (per clip,
//    or per row's real samples when an attention mask is returned)
//    -> {"input_values" [B, T], "attention_mask" [B, T] when return_attention_mask}.
// Like transformers, audio at another sampling rate (or with several channels)
// is rejected; pipelines convert it first with downmix_to_mono + resample_audio.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "preprocess/audio.h"

namespace ia {

using TensorMap = std::map<std::string, Tensor>;

class AudioFeatureExtractor {
 public:
  enum class Kind { Whisper, Wav2Vec2 };

  static AudioFeatureExtractor from_dir(const std::string& model_dir);
  static AudioFeatureExtractor from_json_file(const std::string& path);
  static AudioFeatureExtractor from_json_text(const std::string& text, const std::string& label);

  int sampling_rate() const { return sampling_rate_; }
  Kind kind() const { return kind_; }
  const std::string& class_name() const { return class_name_; }

  TensorMap extract(const Audio& audio) const;
  // A padded batch (transformers' padding=True for wav2vec2; each clip padded to
  // n_samples for Whisper).
  TensorMap extract_batch(const std::vector<Audio>& clips) const;

  // Whisper's mel_filters [n_fft / 2 + 1, feature_size] as float32.
  Tensor mel_filters() const;
  // Samples per 30 s window (Whisper n_samples) / frames per window.
  int64_t n_samples() const { return n_samples_; }
  int64_t nb_max_frames() const { return n_samples_ / hop_length_; }

 private:
  const std::vector<float>& mono_checked(const Audio& a, size_t index) const;
  void whisper_features(const std::vector<float>& wave, float* out) const;

  Kind kind_ = Kind::Whisper;
  std::string class_name_, label_;
  int sampling_rate_ = 16000;
  // Whisper
  int feature_size_ = 80, n_fft_ = 400, hop_length_ = 160;
  int64_t n_samples_ = 480000;
  std::vector<double> mel_;  // [n_fft/2+1][feature_size]
  // Wav2Vec2
  bool do_normalize_ = true, return_attention_mask_ = false, pad_left_ = false;
  float padding_value_ = 0.0f;
};

}  // namespace ia
