// Whisper's audio encoder: log-mel features [B, num_mel_bins, 2 * max_source_positions]
// -> conv1 (k3, pad 1) + GELU -> conv2 (k3, stride 2, pad 1) + GELU -> + the stored
// (sinusoidal) position table -> pre-norm transformer layers -> final LayerNorm.
// Its output feeds the encoder-decoder template's decoder through set_encoder_output.
#pragma once
#include <vector>

#include "parts/conv.h"
#include "parts/nn.h"
#include "templates/speech/speech_encoder_layer.h"

namespace ia {

struct WhisperEncoderGeometry {
  int64_t mel_bins = 80, d_model = 384, layers = 4, heads = 6, ffn_dim = 1536, max_source_positions = 1500;
  cpu::Act act = cpu::Act::GeluExact;
};

class WhisperEncoder {
 public:
  // `w` is the encoder module (model.encoder or encoder).
  static WhisperEncoder load(const Weights& w, const WhisperEncoderGeometry& g);
  // Mel frames the encoder requires (conv strides 1 and 2 over max_source_positions).
  int64_t input_frames() const { return 2 * g_.max_source_positions; }
  int64_t output_frames() const { return g_.max_source_positions; }
  // features [B, mel_bins, input_frames()] -> states [B * output_frames(), d_model] in `out`.
  void forward(const Tensor& features, std::vector<float>& out);

 private:
  WhisperEncoderGeometry g_;
  Conv1d conv1_, conv2_;
  Tensor positions_;  // [max_source_positions, d_model]
  std::vector<SpeechEncoderLayer> layers_;
  LayerNorm norm_;
  SpeechLayerWork work_;
};

}  // namespace ia
