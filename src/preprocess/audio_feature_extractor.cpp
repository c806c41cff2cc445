#include "preprocess/audio_feature_extractor.h"

#include <cmath>
#include <complex>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "formats/hf_config.h"
#include "preprocess/fft.h"
#include "preprocess/mel.h"

namespace ia {

AudioFeatureExtractor AudioFeatureExtractor::from_dir(const std::string& model_dir) {
  const auto path = std::filesystem::path(model_dir) / "preprocessor_config.json";
  IA_CHECK(std::filesystem::exists(path), model_dir, ": no preprocessor_config.json (needed to extract audio features)");
  return from_json_file(path.string());
}

AudioFeatureExtractor AudioFeatureExtractor::from_json_file(const std::string& path) {
  return from_json_text(HFConfig::load(path).raw().dump(), path);
}

AudioFeatureExtractor AudioFeatureExtractor::from_json_text(const std::string& text, const std::string& label) {
  const HFConfig c = HFConfig::parse(text, label);
  AudioFeatureExtractor fe;
  fe.label_ = label;
  const std::string type = c.get_string("feature_extractor_type", "");
  IA_CHECK(!type.empty(), label, ": field 'feature_extractor_type' is missing (cannot tell which feature extractor to use)");
  fe.class_name_ = type;
  if (type == "WhisperFeatureExtractor") fe.kind_ = Kind::Whisper;
  else if (type == "Wav2Vec2FeatureExtractor") fe.kind_ = Kind::Wav2Vec2;
  else
    throw Unsupported(cat(label, ": field 'feature_extractor_type' = '", type,
                          "' is not supported (supported: WhisperFeatureExtractor, Wav2Vec2FeatureExtractor)"));
  const std::string side = c.get_string("padding_side", "right");
  IA_CHECK(side == "right" || side == "left", label, ": field 'padding_side' must be 'right' or 'left', got '", side, "'");
  fe.pad_left_ = side == "left";
  fe.padding_value_ = float(c.get_float("padding_value", 0.0));
  if (fe.kind_ == Kind::Whisper) {
    fe.feature_size_ = int(c.get_int("feature_size", 80));
    fe.sampling_rate_ = int(c.get_int("sampling_rate", 16000));
    fe.hop_length_ = int(c.get_int("hop_length", 160));
    fe.n_fft_ = int(c.get_int("n_fft", 400));
    const int64_t chunk = c.get_int("chunk_length", 30);
    IA_CHECK(fe.feature_size_ >= 1 && fe.feature_size_ <= 1024, label, ": field 'feature_size' out of range: ", fe.feature_size_);
    IA_CHECK(fe.sampling_rate_ >= 1000 && fe.sampling_rate_ <= 384000, label, ": field 'sampling_rate' out of range: ",
             fe.sampling_rate_);
    IA_CHECK(fe.n_fft_ >= 4 && fe.n_fft_ <= 65536, label, ": field 'n_fft' out of range: ", fe.n_fft_);
    IA_CHECK(fe.hop_length_ >= 1 && fe.hop_length_ <= fe.n_fft_ * 4, label, ": field 'hop_length' out of range: ",
             fe.hop_length_);
    IA_CHECK(chunk >= 1 && chunk <= 3600, label, ": field 'chunk_length' out of range: ", chunk);
    // __init__ recomputes these from chunk_length, whatever the saved file says.
    fe.n_samples_ = chunk * fe.sampling_rate_;
    IA_CHECK(fe.n_samples_ > fe.n_fft_ / 2, label, ": chunk_length * sampling_rate must exceed n_fft / 2");
    fe.mel_ = mel_filter_bank(1 + fe.n_fft_ / 2, fe.feature_size_, 0.0, 8000.0, fe.sampling_rate_, "slaney",
                              MelScale::Slaney);
  } else {
    fe.sampling_rate_ = int(c.get_int("sampling_rate", 16000));
    IA_CHECK(fe.sampling_rate_ >= 1000 && fe.sampling_rate_ <= 384000, label, ": field 'sampling_rate' out of range: ",
             fe.sampling_rate_);
    const int64_t fs = c.get_int("feature_size", 1);
    IA_CHECK(fs == 1, label, ": field 'feature_size' must be 1 for Wav2Vec2FeatureExtractor, got ", fs);
    fe.do_normalize_ = c.get_bool("do_normalize", true);
    fe.return_attention_mask_ = c.get_bool("return_attention_mask", false);
  }
  return fe;
}

const std::vector<float>& AudioFeatureExtractor::mono_checked(const Audio& a, size_t index) const {
  IA_CHECK(a.sample_rate == sampling_rate_, "The model corresponding to this feature extractor: ", class_name_,
           " was trained using a sampling rate of ", sampling_rate_,
           ". Please make sure that the provided audio input was sampled with ", sampling_rate_, " and not ",
           a.sample_rate, " (resample it first)");
  IA_CHECK(a.channels == 1, class_name_, ": audio clip ", index, " has ", a.channels,
           " channels; the feature extractor takes mono audio (down-mix it first)");
  IA_CHECK(a.frames >= 1 && a.samples.size() == size_t(a.frames), class_name_, ": audio clip ", index,
           " is empty or malformed");
  return a.samples;
}

Tensor AudioFeatureExtractor::mel_filters() const {
  IA_CHECK(kind_ == Kind::Whisper, class_name_, " has no mel filters");
  std::vector<float> v(mel_.begin(), mel_.end());
  return Tensor::from_vector(v, {int64_t(1 + n_fft_ / 2), int64_t(feature_size_)});
}

void AudioFeatureExtractor::whisper_features(const std::vector<float>& wave, float* out) const {
  const int64_t n = int64_t(wave.size());
  const int half = n_fft_ / 2, bins = n_fft_ / 2 + 1;
  const int64_t frames = 1 + n / hop_length_ - 1;  // torch.stft(center=True) frames, the last one dropped
  const std::vector<double> window = hann_window_periodic(n_fft_);
  const FFT fft(n_fft_);
  std::vector<std::complex<double>> buf(static_cast<size_t>(n_fft_)), spec(static_cast<size_t>(n_fft_));
  std::vector<double> power(static_cast<size_t>(bins));
  std::vector<double> logmel(size_t(frames) * feature_size_);
  auto reflect = [&](int64_t i) {
    if (i < 0) i = -i;
    if (i >= n) i = 2 * (n - 1) - i;
    return i;
  };
  double max_log = -INFINITY;
  for (int64_t t = 0; t < frames; ++t) {
    const int64_t start = t * hop_length_ - half;
    for (int j = 0; j < n_fft_; ++j) buf[size_t(j)] = {double(wave[size_t(reflect(start + j))]) * window[size_t(j)], 0.0};
    fft.forward(buf.data(), spec.data());
    for (int k = 0; k < bins; ++k) power[size_t(k)] = std::norm(spec[size_t(k)]);
    for (int m = 0; m < feature_size_; ++m) {
      double s = 0.0;
      for (int k = 0; k < bins; ++k) s += mel_[size_t(k) * feature_size_ + m] * power[size_t(k)];
      const double l = std::log10(std::max(s, 1e-10));
      logmel[size_t(t) * feature_size_ + m] = l;
      max_log = std::max(max_log, l);
    }
  }
  const double floor = max_log - 8.0;
  for (int m = 0; m < feature_size_; ++m)
    for (int64_t t = 0; t < frames; ++t)
      out[m * frames + t] = float((std::max(logmel[size_t(t) * feature_size_ + m], floor) + 4.0) / 4.0);
}

TensorMap AudioFeatureExtractor::extract(const Audio& audio) const { return extract_batch({audio}); }

TensorMap AudioFeatureExtractor::extract_batch(const std::vector<Audio>& clips) const {
  IA_CHECK(!clips.empty(), class_name_, ": no audio to extract features from");
  const int64_t b = int64_t(clips.size());
  TensorMap out;
  if (kind_ == Kind::Whisper) {
    const int64_t frames = n_samples_ / hop_length_;
    Tensor feats = Tensor::f32({b, int64_t(feature_size_), frames});
    std::vector<float> wave(static_cast<size_t>(n_samples_));
    for (int64_t i = 0; i < b; ++i) {
      const std::vector<float>& s = mono_checked(clips[size_t(i)], size_t(i));
      // pad(padding="max_length", truncation=True): keep the first n_samples, pad on padding_side.
      const int64_t keep = std::min<int64_t>(int64_t(s.size()), n_samples_);
      std::fill(wave.begin(), wave.end(), padding_value_);
      const int64_t offset = pad_left_ ? n_samples_ - keep : 0;
      std::memcpy(wave.data() + offset, s.data(), size_t(keep) * sizeof(float));
      whisper_features(wave, feats.f32() + i * feature_size_ * frames);
    }
    out["input_features"] = feats;
    return out;
  }
  // Wav2Vec2: padding=True pads to the longest clip.
  int64_t longest = 0;
  for (size_t i = 0; i < clips.size(); ++i) longest = std::max<int64_t>(longest, int64_t(mono_checked(clips[i], i).size()));
  Tensor values = Tensor::f32({b, longest});
  Tensor mask = Tensor::zeros(DType::I64, {b, longest});
  for (int64_t i = 0; i < b; ++i) {
    const std::vector<float>& s = clips[size_t(i)].samples;
    const int64_t len = int64_t(s.size()), offset = pad_left_ ? longest - len : 0;
    float* row = values.f32() + i * longest;
    std::fill(row, row + longest, padding_value_);
    std::memcpy(row + offset, s.data(), size_t(len) * sizeof(float));
    for (int64_t t = 0; t < len; ++t) mask.i64()[i * longest + offset + t] = 1;
    if (!do_normalize_) continue;
    // zero_mean_unit_var_norm: with an attention mask (only when a batch is
    // actually padded) statistics over row[:length] and the rest reset to the
    // padding value, as transformers does (even for left padding); otherwise
    // over the whole row. numpy float32 mean/var, 1e-7 added in float64.
    const bool masked = return_attention_mask_ && b > 1;
    const int64_t n = masked ? len : longest;
    double sum = 0.0;
    for (int64_t t = 0; t < n; ++t) sum += row[t];
    const float mean = float(sum / double(n));
    double sq = 0.0;
    for (int64_t t = 0; t < n; ++t) {
      const float d = row[t] - mean;
      sq += double(d * d);
    }
    const float var = float(sq / double(n));
    const float denom = float(std::sqrt(double(var) + 1e-7));
    for (int64_t t = 0; t < longest; ++t) row[t] = (row[t] - mean) / denom;
    if (masked)
      for (int64_t t = len; t < longest; ++t) row[t] = padding_value_;
  }
  out["input_values"] = values;
  if (return_attention_mask_) out["attention_mask"] = mask;
  return out;
}

}  // namespace ia
