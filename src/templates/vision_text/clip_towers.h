// CLIP's two towers, shared by CLIPModel, CLIPVisionModel(+WithProjection),
// CLIPForImageClassification and LLaVA's vision tower.
//   vision: patch conv (no bias) + class embedding + positions -> pre_layrnorm ->
//           encoder -> last_hidden_state; pooled = post_layernorm(last[:, 0])
//   text:   token + position embeddings -> causal encoder (+ padding mask) ->
//           final_layer_norm; pooled = the hidden state at the EOS token (the
//           argmax id when eos_token_id == 2, the legacy rule, as CLIPTextTransformer)
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "formats/hf_config.h"
#include "parts/nn.h"
#include "parts/vision_embeddings.h"
#include "parts/vision_encoder.h"
#include "parts/weights.h"

namespace ia {

class ClipVisionTower {
 public:
  // `c` is a CLIPVisionConfig (defaults of transformers 4.44.2 for missing keys);
  // `w` the CLIPVisionTransformer module (e.g. root.pp("vision_model")).
  static ClipVisionTower load(const HFConfig& c, const Weights& w);

  int64_t hidden() const { return enc_.spec().hidden; }
  int64_t num_layers() const { return enc_.spec().layers; }
  int64_t seq_len() const { return emb_.seq_len(); }
  const PatchEmbeddings& embeddings() const { return emb_; }
  const VisionEncoderSpec& encoder_spec() const { return enc_.spec(); }
  const std::string& act_name() const { return act_name_; }

  // pixel_values [B, C, H, W] -> last_hidden_state [B, T, H] (encoder output, no post norm)
  // and, if asked, pooled [B, H].
  void forward(const Tensor& pixel_values, Tensor* last_hidden_state, Tensor* pooled) const;
  // transformers' hidden_states[index] (index into embeddings + every layer, negative from
  // the end); only the layers needed are run.
  Tensor hidden_state(const Tensor& pixel_values, int64_t index) const;

 private:
  Tensor embed(const Tensor& pixel_values) const;  // embeddings + pre_layrnorm
  PatchEmbeddings emb_;
  LayerNorm pre_ln_, post_ln_;
  VisionEncoder enc_;
  std::string act_name_;
};

class ClipTextTower {
 public:
  // `c` is a CLIPTextConfig; `w` the CLIPTextTransformer module (root.pp("text_model")).
  static ClipTextTower load(const HFConfig& c, const Weights& w);

  int64_t hidden() const { return enc_.spec().hidden; }
  int64_t eos_token_id() const { return eos_; }
  int64_t max_positions() const { return pos_.vocab; }
  const VisionEncoderSpec& encoder_spec() const { return enc_.spec(); }
  const std::string& act_name() const { return act_name_; }

  // input_ids [B, T]; attention_mask [B, T] and position_ids [B|1, T] may be null.
  // -> last_hidden_state [B, T, H] (after final_layer_norm), pooled [B, H].
  void forward(const Tensor& input_ids, const Tensor* attention_mask, const Tensor* position_ids,
               Tensor* last_hidden_state, Tensor* pooled) const;

 private:
  Embedding tok_, pos_;
  VisionEncoder enc_;
  LayerNorm final_ln_;
  int64_t eos_ = 49407;
  std::string act_name_;
};

// The CLIP text / vision configs of a CLIPConfig, as CLIPConfig.__init__ resolves them:
// the legacy `text_config_dict` / `vision_config_dict` replace `text_config` / `vision_config`.
HFConfig clip_text_config(const HFConfig& clip);
HFConfig clip_vision_config(const HFConfig& clip);

}  // namespace ia
