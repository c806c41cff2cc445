// Preprocessing speed: decode a JPEG + CLIP-224 preprocessing, and Whisper log-mel
// of 30 s of audio, single thread. The peer is bench/preprocess_peer.py (Pillow +
// numpy for the CLIP steps, torch.stft + mel matmul for Whisper), run right after:
//   g++ -std=c++20 -O2 -Isrc bench/preprocess_bench.cpp build/libia.a -ljpeg -lpng -o /tmp/preprocess_bench
//   /tmp/preprocess_bench IMAGE.jpg && (cd $(dirname IMAGE.jpg) && /usr/bin/python3 .../bench/preprocess_peer.py)
#include <chrono>
#include <cstdio>
#include <cmath>
#include "preprocess/image.h"
#include "preprocess/image_processor.h"
#include "preprocess/audio_feature_extractor.h"
using namespace ia;
int main(int, char** argv) {
  auto now = [] { return std::chrono::steady_clock::now(); };
  auto proc = ImageProcessor::from_json_text(R"({"image_processor_type": "CLIPImageProcessor"})", "clip224");
  auto t0 = now(); int n = 50; double sink = 0;
  for (int i = 0; i < n; ++i) { Image im = decode_image_file(argv[1]); sink += proc.preprocess(im).f32()[0]; }
  double img_ms = std::chrono::duration<double, std::milli>(now() - t0).count() / n;
  auto fe = AudioFeatureExtractor::from_json_text(R"({"feature_extractor_type": "WhisperFeatureExtractor"})", "w");
  Audio a; a.sample_rate = 16000; a.channels = 1; a.frames = 480000;
  for (int i = 0; i < 480000; ++i) a.samples.push_back(0.3f * std::sin(0.05f * i));
  t0 = now(); int m = 5;
  for (int i = 0; i < m; ++i) sink += fe.extract(a).at("input_features").f32()[0];
  double aud_ms = std::chrono::duration<double, std::milli>(now() - t0).count() / m;
  printf("clip224 decode+preprocess %s: %.2f ms/image; whisper 30 s log-mel: %.1f ms (%g)\n", argv[1], img_ms, aud_ms, sink);
}
