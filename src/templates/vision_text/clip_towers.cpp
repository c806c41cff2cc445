#include "templates/vision_text/clip_towers.h"

#include <cstring>

#include "core/error.h"
#include "templates/vision/vision_config.h"

namespace ia {

namespace {

VisionEncoderNames clip_layer_names() {
  VisionEncoderNames n;
  n.ln1 = "layer_norm1";
  n.ln2 = "layer_norm2";
  n.q = "self_attn.q_proj";
  n.k = "self_attn.k_proj";
  n.v = "self_attn.v_proj";
  n.o = "self_attn.out_proj";
  n.fc1 = "mlp.fc1";
  n.fc2 = "mlp.fc2";
  return n;
}

VisionEncoderSpec clip_encoder_spec(const HFConfig& c, int64_t hidden, int64_t heads, int64_t inter, int64_t layers,
                                    std::string* act_name) {
  VisionEncoderSpec s;
  s.who = c.label();
  s.hidden = c.get_int("hidden_size", hidden);
  s.heads = c.get_int("num_attention_heads", heads);
  s.intermediate = c.get_int("intermediate_size", inter);
  s.layers = c.get_int("num_hidden_layers", layers);
  s.eps = float(c.get_float("layer_norm_eps", 1e-5));
  *act_name = c.get_string("hidden_act", "quick_gelu");
  s.act = cpu::act_from_name(*act_name, c.label());
  return s;
}

}  // namespace

HFConfig clip_text_config(const HFConfig& clip) {
  return clip.has("text_config_dict") ? clip.sub("text_config_dict") : clip.sub("text_config");
}

HFConfig clip_vision_config(const HFConfig& clip) {
  return clip.has("vision_config_dict") ? clip.sub("vision_config_dict") : clip.sub("vision_config");
}

ClipVisionTower ClipVisionTower::load(const HFConfig& c, const Weights& w) {
  ClipVisionTower t;
  VisionEncoderSpec es = clip_encoder_spec(c, 768, 12, 3072, 12, &t.act_name_);
  PatchEmbeddingSpec ps;
  ps.who = c.label();
  ps.hidden = es.hidden;
  ps.channels = c.get_int("num_channels", 3);
  // CLIPVisionEmbeddings takes image_size and patch_size as plain ints (square).
  ps.image_h = ps.image_w = c.get_int("image_size", 224);
  ps.patch_h = ps.patch_w = c.get_int("patch_size", 32);
  const Weights emb = w.pp("embeddings");
  const Weights pos = emb.pp("position_embedding");
  t.emb_ = PatchEmbeddings::load(ps, emb.pp("patch_embedding"), &emb, "class_embedding", &pos, "weight");
  t.pre_ln_ = LayerNorm::load(w.pp("pre_layrnorm"), es.hidden, es.eps);
  t.post_ln_ = LayerNorm::load(w.pp("post_layernorm"), es.hidden, es.eps);
  t.enc_ = VisionEncoder::load(es, w.pp("encoder").pp("layers"), clip_layer_names());
  return t;
}

Tensor ClipVisionTower::embed(const Tensor& pixel_values) const {
  Tensor x = emb_.forward(pixel_values);
  pre_ln_.forward(x.f32(), x.dim(0) * x.dim(1), x.f32());
  return x;
}

void ClipVisionTower::forward(const Tensor& pixel_values, Tensor* last, Tensor* pooled) const {
  Tensor x = embed(pixel_values);
  enc_.forward(x);
  const int64_t B = x.dim(0), T = x.dim(1), H = hidden();
  if (pooled) {
    *pooled = Tensor::f32({B, H});
    for (int64_t b = 0; b < B; ++b) post_ln_.forward(x.f32() + b * T * H, 1, pooled->f32() + b * H);
  }
  if (last) *last = x;
}

Tensor ClipVisionTower::hidden_state(const Tensor& pixel_values, int64_t index) const {
  const int64_t n = num_layers() + 1;  // embeddings + every layer
  const int64_t i = index < 0 ? n + index : index;
  IA_CHECK(i >= 0 && i < n, enc_.spec().who, ": vision feature layer ", index, " is out of range for ", num_layers(),
           " layers (hidden_states has ", n, " entries)");
  Tensor x = embed(pixel_values);
  enc_.forward(x, nullptr, false, nullptr, i);
  return x;
}

ClipTextTower ClipTextTower::load(const HFConfig& c, const Weights& w) {
  ClipTextTower t;
  VisionEncoderSpec es = clip_encoder_spec(c, 512, 8, 2048, 12, &t.act_name_);
  const int64_t vocab = c.get_int("vocab_size", 49408);
  const int64_t max_pos = c.get_int("max_position_embeddings", 77);
  t.eos_ = c.get_int("eos_token_id", 49407);
  const Weights emb = w.pp("embeddings");
  t.tok_ = Embedding::load(emb.pp("token_embedding"), vocab, es.hidden);
  t.pos_ = Embedding::load(emb.pp("position_embedding"), max_pos, es.hidden);
  t.enc_ = VisionEncoder::load(es, w.pp("encoder").pp("layers"), clip_layer_names());
  t.final_ln_ = LayerNorm::load(w.pp("final_layer_norm"), es.hidden, es.eps);
  return t;
}

void ClipTextTower::forward(const Tensor& input_ids, const Tensor* attention_mask, const Tensor* position_ids,
                            Tensor* last, Tensor* pooled) const {
  const std::string& who = enc_.spec().who;
  IA_CHECK(input_ids.rank() == 2 && input_ids.dim(0) > 0 && input_ids.dim(1) > 0, who,
           ": input_ids must be [batch, seq] with a token, got ", shape_str(input_ids.shape()));
  const int64_t B = input_ids.dim(0), T = input_ids.dim(1), H = hidden();
  IA_CHECK(T <= pos_.vocab, who, ": sequence length ", T, " exceeds max_position_embeddings ", pos_.vocab);
  Tensor ids = input_ids.to_i64();
  std::vector<int64_t> pos(size_t(B * T));
  if (position_ids) {
    IA_CHECK(position_ids->rank() == 2 && position_ids->dim(1) == T &&
                 (position_ids->dim(0) == B || position_ids->dim(0) == 1),
             who, ": position_ids shape ", shape_str(position_ids->shape()), " does not fit input_ids ",
             shape_str(input_ids.shape()));
    Tensor p = position_ids->to_i64();
    for (int64_t b = 0; b < B; ++b)
      std::memcpy(pos.data() + b * T, p.i64() + (position_ids->dim(0) == 1 ? 0 : b) * T, size_t(T) * 8);
  } else {
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < T; ++t) pos[size_t(b * T + t)] = t;
  }
  std::vector<int64_t> mask;
  if (attention_mask) {
    IA_CHECK(attention_mask->shape() == input_ids.shape(), who, ": attention_mask shape ",
             shape_str(attention_mask->shape()), " does not match input_ids ", shape_str(input_ids.shape()));
    Tensor m = attention_mask->to_i64();
    mask.assign(m.i64(), m.i64() + m.numel());
    for (auto& v : mask) v = v != 0;
  }
  Tensor x = Tensor::f32({B, T, H});
  tok_.lookup(ids.i64(), B * T, x.f32(), "input id");
  pos_.lookup_add(pos.data(), B * T, x.f32(), "position id");
  enc_.forward(x, mask.empty() ? nullptr : mask.data(), /*causal=*/true);
  final_ln_.forward(x.f32(), B * T, x.f32());
  if (pooled) {
    *pooled = Tensor::f32({B, H});
    for (int64_t b = 0; b < B; ++b) {
      const int64_t* row = ids.i64() + b * T;
      int64_t at = 0;  // torch argmax: first maximum; no EOS in the row -> 0
      if (eos_ == 2) {
        // Legacy rule: the highest id (int32 cast, as transformers does) marks EOS.
        for (int64_t t = 1; t < T; ++t)
          if (int32_t(row[t]) > int32_t(row[at])) at = t;
      } else {
        for (int64_t t = 0; t < T; ++t)
          if (row[t] == eos_) {
            at = t;
            break;
          }
      }
      std::memcpy(pooled->f32() + b * H, x.f32() + (b * T + at) * H, size_t(H) * 4);
    }
  }
  if (last) *last = x;
}

}  // namespace ia
