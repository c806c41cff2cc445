// wav2vec2 (Wav2Vec2Model, Wav2Vec2ForCTC, Wav2Vec2ForSequenceClassification):
// raw audio -> convolutional feature encoder (feat_extract_norm "group": GroupNorm
// after the first conv; "layer": LayerNorm over channels after every conv) ->
// feature projection (LayerNorm + Linear) -> weight-normalised grouped positional
// convolution -> transformer encoder (post-norm, or pre-norm with
// do_stable_layer_norm) -> CTC head / pooled classifier.
// Padded batches: attention_mask [B, samples] is reduced to frames with the conv
// length formula, padded frames are zeroed before the positional conv and masked
// as attention keys, as transformers 4.44.2 does.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "parts/conv.h"
#include "parts/nn.h"
#include "templates/model.h"
#include "templates/speech/speech_encoder_layer.h"

namespace ia {

enum class Wav2Vec2Head { Base, CTC, SequenceClassification };

struct Wav2Vec2Params {
  std::string architecture;
  Wav2Vec2Head head = Wav2Vec2Head::Base;
  int64_t hidden = 768, layers = 12, heads = 12, ffn = 3072, vocab = 32;
  float eps = 1e-5f;
  std::string hidden_act = "gelu", feat_act = "gelu", feat_norm = "group";
  std::vector<int64_t> conv_dim, conv_stride, conv_kernel;
  bool conv_bias = false, stable_layer_norm = false;
  int64_t pos_kernel = 128, pos_groups = 16;
  int64_t classifier_proj = 256, num_labels = 2;
  bool weighted_layer_sum = false;
  std::vector<std::string> id2label;  // index -> label for audio-classification
};

Wav2Vec2Params wav2vec2_params_from_config(const ModelContext& ctx);

class Wav2Vec2Model : public Model {
 public:
  explicit Wav2Vec2Model(const ModelContext& ctx);
  const std::string& model_type() const override { return model_type_; }
  Family family() const override { return Family::Speech; }
  // input_values [B, samples], attention_mask [B, samples] (optional) ->
  // extract_features, last_hidden_state [B, frames, *]; CTC: logits [B, frames, vocab] and
  // greedy_ctc_ids [B, frames]; classification: logits [B, num_labels].
  TensorMap forward(const TensorMap& inputs) override;
  nlohmann::json describe() const override;
  std::vector<std::string> tasks() const override;
  const Wav2Vec2Params& params() const { return p_; }
  // Frames the feature encoder makes from `samples` audio samples (conv length formula).
  int64_t frames_for(int64_t samples) const;

 private:
  struct ConvLayer {
    Conv1d conv;
    LayerNorm layer_norm;      // "layer": over channels
    Tensor group_w, group_b;   // "group" (first layer only): per-channel GroupNorm affine
  };
  void feature_encoder(const float* audio, int64_t B, int64_t S, Tensor& feats /*[B, C, T]*/) const;

  std::string model_type_ = "wav2vec2";
  Wav2Vec2Params p_;
  cpu::Act feat_act_;
  std::vector<ConvLayer> convs_;
  LayerNorm proj_norm_, enc_norm_;
  Linear proj_;
  Conv1d pos_conv_;
  std::vector<SpeechEncoderLayer> layers_;
  Linear lm_head_, projector_, classifier_;
  std::vector<float> layer_weights_;
  mutable SpeechLayerWork work_;
};

}  // namespace ia
