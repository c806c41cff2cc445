// WAV decoding (PCM 8/16/24/32, float 32/64, extensible, stereo), clear errors
// for broken files, the mel filter bank against its defining formula, the FFT
// against a direct DFT, and the feature extractors' input checks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>

#include "core/error.h"
#include "preprocess/audio.h"
#include "preprocess/audio_feature_extractor.h"
#include "preprocess/fft.h"
#include "preprocess/mel.h"
#include "preprocess/resample_audio.h"

using namespace ia;

namespace {

void put16(std::vector<uint8_t>& b, uint16_t v) { b.push_back(uint8_t(v)), b.push_back(uint8_t(v >> 8)); }
void put32(std::vector<uint8_t>& b, uint32_t v) { for (int i = 0; i < 4; ++i) b.push_back(uint8_t(v >> (8 * i))); }
void tag(std::vector<uint8_t>& b, const char* t) { b.insert(b.end(), t, t + 4); }

// A WAV file with `payload` as its data chunk.
std::vector<uint8_t> make_wav(uint16_t format, int channels, int rate, int bits, const std::vector<uint8_t>& payload,
                              bool extensible = false) {
  std::vector<uint8_t> b;
  tag(b, "RIFF");
  put32(b, 0);  // patched below
  tag(b, "WAVE");
  tag(b, "LIST");  // an unrelated odd-sized chunk the parser must skip (with its pad byte)
  put32(b, 3);
  b.insert(b.end(), {'a', 'b', 'c', 0});
  tag(b, "fmt ");
  put32(b, extensible ? 40 : 16);
  put16(b, extensible ? 0xFFFE : format);
  put16(b, uint16_t(channels));
  put32(b, uint32_t(rate));
  put32(b, uint32_t(rate * channels * bits / 8));
  put16(b, uint16_t(channels * bits / 8));
  put16(b, uint16_t(bits));
  if (extensible) {
    put16(b, 22);
    put16(b, uint16_t(bits));
    put32(b, channels == 2 ? 3 : 4);
    put16(b, format);
    const uint8_t suffix[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};
    b.insert(b.end(), suffix, suffix + 14);
  }
  tag(b, "data");
  put32(b, uint32_t(payload.size()));
  b.insert(b.end(), payload.begin(), payload.end());
  const uint32_t riff = uint32_t(b.size() - 8);
  std::memcpy(&b[4], &riff, 4);
  return b;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(PreprocessWav, Pcm16Mono) {
  std::vector<uint8_t> p;
  for (int16_t v : {0, 16384, -32768, 32767}) put16(p, uint16_t(v));
  const auto w = make_wav(1, 1, 16000, 16, p);
  const Audio a = decode_wav_bytes(w.data(), w.size(), "m.wav");
  EXPECT_EQ(a.sample_rate, 16000);
  EXPECT_EQ(a.channels, 1);
  ASSERT_EQ(a.frames, 4);
  EXPECT_FLOAT_EQ(a.samples[1], 0.5f);
  EXPECT_FLOAT_EQ(a.samples[2], -1.0f);
  EXPECT_FLOAT_EQ(a.samples[3], 32767.0f / 32768.0f);
}

TEST(PreprocessWav, Pcm24StereoExtensible) {
  std::vector<uint8_t> p;
  for (int32_t v : {4194304, -8388608, 1, -1}) {  // L, R, L, R
    p.push_back(uint8_t(v)), p.push_back(uint8_t(v >> 8)), p.push_back(uint8_t(v >> 16));
  }
  const auto w = make_wav(1, 2, 44100, 24, p, true);
  const Audio a = decode_wav_bytes(w.data(), w.size(), "s.wav");
  EXPECT_EQ(a.channels, 2);
  ASSERT_EQ(a.frames, 2);
  EXPECT_FLOAT_EQ(a.samples[0], 0.5f);
  EXPECT_FLOAT_EQ(a.samples[1], -1.0f);
  EXPECT_FLOAT_EQ(a.samples[2], 1.0f / 8388608.0f);
  EXPECT_FLOAT_EQ(a.samples[3], -1.0f / 8388608.0f);
  const Audio m = downmix_to_mono(a);
  EXPECT_EQ(m.channels, 1);
  EXPECT_FLOAT_EQ(m.samples[0], -0.25f);
  EXPECT_FLOAT_EQ(m.samples[1], 0.0f);
}

TEST(PreprocessWav, FloatAnd8And32Bit) {
  std::vector<uint8_t> f32;
  for (float v : {0.25f, -0.75f}) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    put32(f32, u);
  }
  auto w = make_wav(3, 1, 8000, 32, f32);
  Audio a = decode_wav_bytes(w.data(), w.size(), "f.wav");
  EXPECT_FLOAT_EQ(a.samples[1], -0.75f);
  std::vector<uint8_t> f64(16);
  const double d[2] = {0.125, -0.5};
  std::memcpy(f64.data(), d, 16);
  w = make_wav(3, 1, 8000, 64, f64, true);
  a = decode_wav_bytes(w.data(), w.size(), "d.wav");
  EXPECT_FLOAT_EQ(a.samples[0], 0.125f);
  w = make_wav(1, 1, 8000, 8, {0, 128, 255});
  a = decode_wav_bytes(w.data(), w.size(), "u8.wav");
  EXPECT_FLOAT_EQ(a.samples[0], -1.0f);
  EXPECT_FLOAT_EQ(a.samples[1], 0.0f);
  std::vector<uint8_t> i32;
  put32(i32, 0x40000000u);
  w = make_wav(1, 1, 8000, 32, i32);
  a = decode_wav_bytes(w.data(), w.size(), "i32.wav");
  EXPECT_FLOAT_EQ(a.samples[0], 0.5f);
}

TEST(PreprocessWav, BrokenFilesGiveClearErrors) {
  std::vector<uint8_t> p(8, 0);
  const auto good = make_wav(1, 1, 16000, 16, p);
  auto err = [](std::vector<uint8_t> b, const std::string& what) {
    return error_of([&] { decode_wav_bytes(b.data(), b.size(), what); });
  };
  EXPECT_NE(err({}, "e.wav").find("e.wav: empty"), std::string::npos);
  EXPECT_NE(err(std::vector<uint8_t>(good.begin(), good.begin() + 10), "t.wav").find("t.wav: not a WAV"), std::string::npos);
  EXPECT_NE(err(std::vector<uint8_t>(good.begin(), good.end() - 3), "d.wav").find("d.wav: data chunk is truncated"),
            std::string::npos);
  EXPECT_NE(err(make_wav(2, 1, 16000, 4, p), "adpcm.wav").find("adpcm.wav: unsupported WAV encoding Microsoft ADPCM"),
            std::string::npos);
  EXPECT_NE(err(make_wav(1, 1, 16000, 12, p), "b12.wav").find("unsupported PCM sample size 12"), std::string::npos);
  EXPECT_NE(err(make_wav(1, 0, 16000, 16, p), "c0.wav").find("c0.wav: invalid channel count 0"), std::string::npos);
  EXPECT_NE(err(make_wav(1, 1, 0, 16, p), "r0.wav").find("r0.wav: invalid sample rate"), std::string::npos);
  auto no_data = good;
  no_data.resize(no_data.size() - p.size() - 8);
  EXPECT_NE(err(no_data, "nd.wav").find("nd.wav: WAV file has no data chunk"), std::string::npos);
  const std::string flac = "fLaC\0\0\0\x22";
  EXPECT_NE(err(std::vector<uint8_t>(flac.begin(), flac.end()), "a.flac").find("a.flac: not a WAV file"), std::string::npos);
  EXPECT_NE(error_of([] { decode_wav_file("/nonexistent/a.wav"); }).find("/nonexistent/a.wav: cannot open"), std::string::npos);
}

TEST(PreprocessMel, FilterBankMatchesTheDefiningFormula) {
  // Slaney: linear below 1 kHz (3 f / 200 mels), logarithmic above; triangles
  // between consecutive centre frequencies, area-normalised by 2 / (f[m+2] - f[m]).
  const int bins = 201, mels = 80, sr = 16000;
  const auto fb = mel_filter_bank(bins, mels, 0.0, 8000.0, sr, "slaney", MelScale::Slaney);
  auto hz2mel = [](double f) { return f < 1000 ? 3 * f / 200 : 15 + std::log(f / 1000) / (std::log(6.4) / 27); };
  auto mel2hz = [](double m) { return m < 15 ? 200 * m / 3 : 1000 * std::exp((m - 15) * std::log(6.4) / 27); };
  std::vector<double> centre(mels + 2);
  for (int i = 0; i < mels + 2; ++i) centre[i] = mel2hz(hz2mel(0) + (hz2mel(8000) - hz2mel(0)) * i / (mels + 1));
  double worst = 0;
  for (int k = 0; k < bins; ++k) {
    const double f = 8000.0 * k / (bins - 1);
    for (int m = 0; m < mels; ++m) {
      double tri = 0;
      if (f > centre[m] && f <= centre[m + 1]) tri = (f - centre[m]) / (centre[m + 1] - centre[m]);
      else if (f > centre[m + 1] && f < centre[m + 2]) tri = (centre[m + 2] - f) / (centre[m + 2] - centre[m + 1]);
      tri *= 2.0 / (centre[m + 2] - centre[m]);
      worst = std::max(worst, std::fabs(tri - fb[k * mels + m]));
    }
  }
  EXPECT_LT(worst, 1e-12);
  // HTK scale round trip.
  EXPECT_NEAR(mel_to_hertz(hertz_to_mel(440.0, MelScale::HTK), MelScale::HTK), 440.0, 1e-9);
  EXPECT_NEAR(hertz_to_mel(1000.0, MelScale::Slaney), 15.0, 1e-12);
}

TEST(PreprocessFFT, MatchesDirectDft) {
  for (int n : {1, 2, 7, 12, 400, 512, 97 * 3}) {
    SCOPED_TRACE(n);
    std::vector<std::complex<double>> x(n), y(n);
    for (int i = 0; i < n; ++i) x[i] = {std::sin(0.37 * i) + 0.1 * i, std::cos(1.3 * i)};
    FFT(n).forward(x.data(), y.data());
    double worst = 0;
    for (int k = 0; k < n; ++k) {
      std::complex<double> s = 0;
      for (int j = 0; j < n; ++j) s += x[j] * std::polar(1.0, -2 * M_PI * double(j) * k / n);
      worst = std::max(worst, std::abs(s - y[k]));
    }
    EXPECT_LT(worst, 1e-9);
  }
}

TEST(PreprocessFeatureExtractor, RejectsWrongRateAndChannelsAndBadConfigs) {
  const auto fe = AudioFeatureExtractor::from_json_text(
      R"({"feature_extractor_type": "WhisperFeatureExtractor", "chunk_length": 1})", "w.json");
  Audio a;
  a.sample_rate = 8000, a.channels = 1, a.frames = 100, a.samples.assign(100, 0.1f);
  EXPECT_NE(error_of([&] { fe.extract(a); }).find("sampling rate of 16000"), std::string::npos);
  a.sample_rate = 16000, a.channels = 2, a.frames = 50;
  EXPECT_NE(error_of([&] { fe.extract(a); }).find("2 channels"), std::string::npos);
  a = resample_audio(downmix_to_mono(a), 16000);
  EXPECT_EQ(fe.extract(a).at("input_features").shape(), (Shape{1, 80, 100}));
  EXPECT_NE(error_of([] { AudioFeatureExtractor::from_json_text("{}", "x.json"); }).find("x.json: field 'feature_extractor_type'"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              AudioFeatureExtractor::from_json_text(R"({"feature_extractor_type": "WhisperFeatureExtractor", "n_fft": 0})", "y.json");
            }).find("y.json: field 'n_fft'"),
            std::string::npos);
  EXPECT_THROW(AudioFeatureExtractor::from_json_text(R"({"feature_extractor_type": "SpeechT5FeatureExtractor"})", "z"),
               Unsupported);
}

TEST(PreprocessFeatureExtractor, Wav2Vec2NormalisesAndMasksBatches) {
  const auto fe = AudioFeatureExtractor::from_json_text(
      R"({"feature_extractor_type": "Wav2Vec2FeatureExtractor", "return_attention_mask": true})", "w2v");
  Audio x, y;
  x.sample_rate = y.sample_rate = 16000, x.channels = y.channels = 1;
  x.samples = {1, 2, 3, 4}, x.frames = 4;
  y.samples = {5, 5}, y.frames = 2;
  const auto out = fe.extract_batch({x, y});
  const Tensor& v = out.at("input_values");
  ASSERT_EQ(v.shape(), (Shape{2, 4}));
  const float sd = std::sqrt(1.25f + 1e-7f);
  EXPECT_NEAR(v.f32()[0], -1.5f / sd, 1e-6);
  EXPECT_NEAR(v.f32()[3], 1.5f / sd, 1e-6);
  EXPECT_FLOAT_EQ(v.f32()[4], 0.0f);  // constant clip -> 0
  EXPECT_FLOAT_EQ(v.f32()[6], 0.0f);  // padding reset to padding_value
  const Tensor& m = out.at("attention_mask");
  EXPECT_EQ(m.i64()[5], 1);
  EXPECT_EQ(m.i64()[6], 0);
}
