// Whisper's audio encoder (see whisper_encoder.h).
#include "templates/speech/whisper_encoder.h"

#include <cstring>

#include "core/error.h"

namespace ia {

WhisperEncoder WhisperEncoder::load(const Weights& w, const WhisperEncoderGeometry& g) {
  WhisperEncoder e;
  e.g_ = g;
  e.conv1_ = Conv1d::load(w.pp("conv1"), g.mel_bins, g.d_model, 3, 1, 1);
  e.conv2_ = Conv1d::load(w.pp("conv2"), g.d_model, g.d_model, 3, 2, 1);
  e.positions_ = w.pp("embed_positions").get("weight", {g.max_source_positions, g.d_model});
  SpeechLayerGeometry lg;
  lg.d_model = g.d_model;
  lg.heads = g.heads;
  lg.ffn_dim = g.ffn_dim;
  lg.eps = 1e-5f;  // nn.LayerNorm default: WhisperConfig has no epsilon field
  lg.pre_norm = true;
  lg.act = g.act;
  SpeechLayerNames n;
  n.attn = "self_attn";
  n.q = "q_proj";
  n.k = "k_proj";
  n.v = "v_proj";
  n.o = "out_proj";
  n.k_bias = false;
  n.attn_norm = "self_attn_layer_norm";
  n.ffn_norm = "final_layer_norm";
  n.fc1 = "fc1";
  n.fc2 = "fc2";
  for (int64_t i = 0; i < g.layers; ++i) e.layers_.push_back(SpeechEncoderLayer::load(w.pp("layers").pp(i), lg, n));
  e.norm_ = LayerNorm::load(w.pp("layer_norm"), g.d_model, 1e-5f, true);
  return e;
}

void WhisperEncoder::forward(const Tensor& features, std::vector<float>& out) {
  IA_CHECK(features.rank() == 3 && features.dim(0) > 0, "whisper: input_features must be [batch, num_mel_bins, frames], got ",
           shape_str(features.shape()));
  IA_CHECK(features.dim(1) == g_.mel_bins, "whisper: input_features has ", features.dim(1),
           " mel bins, the model expects num_mel_bins = ", g_.mel_bins);
  IA_CHECK(features.dim(2) == input_frames(), "whisper: Whisper expects the mel input features to be of length ",
           input_frames(), ", but found ", features.dim(2), " (pad or truncate the features to ", input_frames(),
           " frames = 2 * max_source_positions)");
  const int64_t B = features.dim(0), T = output_frames(), D = g_.d_model;
  Tensor h = conv1_.forward(features.to_f32());
  cpu::apply_act(cpu::Act::GeluExact, h.f32(), h.numel());  // nn.functional.gelu: exact erf GELU
  h = conv2_.forward(h);
  cpu::apply_act(cpu::Act::GeluExact, h.f32(), h.numel());
  IA_CHECK(h.dim(2) == T, "whisper: conv stack produced ", h.dim(2), " frames, expected ", T);
  out.resize(size_t(B * T * D));
  const float* hp = h.f32();
  const float* pos = positions_.f32();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      float* row = out.data() + (b * T + t) * D;
      for (int64_t d = 0; d < D; ++d) row[d] = hp[(b * D + d) * T + t] + pos[t * D + d];
    }
  for (const SpeechEncoderLayer& L : layers_) L.forward(out.data(), B, T, nullptr, work_);
  std::vector<float> normed(out.size());
  norm_.forward(out.data(), B * T, normed.data());
  out.swap(normed);
}

}  // namespace ia
