// wav2vec2: config row, weight loading and the forward pass (see wav2vec2_model.h).
#include "templates/speech/wav2vec2_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace ia {

namespace {

std::vector<int64_t> int_list(const HFConfig& c, const char* key, std::vector<int64_t> def) {
  if (!c.has(key)) return def;
  std::vector<int64_t> v = c.get_int_list(key);
  IA_CHECK(!v.empty(), c.label(), ": ", key, " must not be empty");
  for (int64_t x : v) IA_CHECK(x > 0, c.label(), ": ", key, " entries must be positive, got ", x);
  return v;
}

int64_t positive(const HFConfig& c, const char* key, int64_t def) {
  int64_t v = c.get_int(key, def);
  IA_CHECK(v > 0, c.label(), ": ", key, " must be positive, got ", v);
  return v;
}

// [B, R, C] -> [B, C, R]
void transpose_batched(const float* src, int64_t B, int64_t R, int64_t C, float* dst) {
  for (int64_t b = 0; b < B; ++b)
    for (int64_t r = 0; r < R; ++r)
      for (int64_t c = 0; c < C; ++c) dst[(b * C + c) * R + r] = src[(b * R + r) * C + c];
}

}  // namespace

Wav2Vec2Params wav2vec2_params_from_config(const ModelContext& ctx) {
  const HFConfig& c = ctx.config;
  Wav2Vec2Params p;
  p.architecture = ctx.architecture;
  const std::string& a = ctx.architecture;
  if (a.empty() || a == "Wav2Vec2Model") p.head = Wav2Vec2Head::Base;
  else if (a == "Wav2Vec2ForCTC") p.head = Wav2Vec2Head::CTC;
  else if (a == "Wav2Vec2ForSequenceClassification") p.head = Wav2Vec2Head::SequenceClassification;
  else
    throw Unsupported(cat(c.label(), ": architecture '", a,
                          "' is not implemented (supported: Wav2Vec2Model, Wav2Vec2ForCTC, "
                          "Wav2Vec2ForSequenceClassification)"));
  if (c.get_bool("add_adapter", false))
    throw Unsupported(cat(c.label(), ": add_adapter = true (the wav2vec2 adapter stack) is not implemented"));
  p.hidden = positive(c, "hidden_size", 768);
  p.layers = positive(c, "num_hidden_layers", 12);
  p.heads = positive(c, "num_attention_heads", 12);
  p.ffn = positive(c, "intermediate_size", 3072);
  p.vocab = c.has("vocab_size") ? positive(c, "vocab_size", 32) : 32;
  IA_CHECK(p.hidden % p.heads == 0, c.label(), ": hidden_size ", p.hidden, " is not divisible by num_attention_heads ",
           p.heads);
  p.eps = float(c.get_float("layer_norm_eps", 1e-5));
  p.hidden_act = c.get_string("hidden_act", "gelu");
  p.feat_act = c.get_string("feat_extract_activation", "gelu");
  p.feat_norm = c.get_string("feat_extract_norm", "group");
  IA_CHECK(p.feat_norm == "group" || p.feat_norm == "layer", c.label(), ": feat_extract_norm is '", p.feat_norm,
           "', but has to be one of ['group', 'layer']");
  p.conv_dim = int_list(c, "conv_dim", {512, 512, 512, 512, 512, 512, 512});
  p.conv_stride = int_list(c, "conv_stride", {5, 2, 2, 2, 2, 2, 2});
  p.conv_kernel = int_list(c, "conv_kernel", {10, 3, 3, 3, 3, 2, 2});
  // Wav2Vec2Config derives num_feat_extract_layers from conv_dim and rejects mismatched lists.
  IA_CHECK(p.conv_dim.size() == p.conv_stride.size() && p.conv_dim.size() == p.conv_kernel.size(), c.label(),
           ": conv_dim (", p.conv_dim.size(), "), conv_stride (", p.conv_stride.size(), ") and conv_kernel (",
           p.conv_kernel.size(), ") must have the same length");
  p.conv_bias = c.get_bool("conv_bias", false);
  p.stable_layer_norm = c.get_bool("do_stable_layer_norm", false);
  p.pos_kernel = positive(c, "num_conv_pos_embeddings", 128);
  p.pos_groups = positive(c, "num_conv_pos_embedding_groups", 16);
  IA_CHECK(p.hidden % p.pos_groups == 0, c.label(), ": hidden_size ", p.hidden,
           " is not divisible by num_conv_pos_embedding_groups ", p.pos_groups);
  p.classifier_proj = positive(c, "classifier_proj_size", 256);
  p.weighted_layer_sum = c.get_bool("use_weighted_layer_sum", false);
  if (c.raw().contains("id2label") && c.raw()["id2label"].is_object() && !c.raw()["id2label"].empty()) {
    const auto& m = c.raw()["id2label"];
    p.num_labels = int64_t(m.size());
    p.id2label.assign(size_t(p.num_labels), "");
    for (auto it = m.begin(); it != m.end(); ++it) {
      int64_t i = -1;
      try {
        i = std::stoll(it.key());
      } catch (const std::exception&) {
      }
      IA_CHECK(i >= 0 && i < p.num_labels, c.label(), ": id2label key '", it.key(), "' is not an index below ",
               p.num_labels);
      p.id2label[size_t(i)] = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
    }
  } else {
    p.num_labels = positive(c, "num_labels", 2);
    for (int64_t i = 0; i < p.num_labels; ++i) p.id2label.push_back(cat("LABEL_", i));
  }
  return p;
}

Wav2Vec2Model::Wav2Vec2Model(const ModelContext& ctx) : p_(wav2vec2_params_from_config(ctx)) {
  model_type_ = ctx.model_type;
  feat_act_ = cpu::act_from_name(p_.feat_act, ctx.config.label() + " feat_extract_activation");
  const cpu::Act hidden_act = cpu::act_from_name(p_.hidden_act, ctx.config.label() + " hidden_act");
  Weights root(ctx.checkpoint);
  Weights base = resolve_base(root, {"wav2vec2", ""}, "feature_extractor.conv_layers.0.conv.weight");
  Weights fe = base.pp("feature_extractor").pp("conv_layers");
  int64_t in = 1;
  for (size_t i = 0; i < p_.conv_dim.size(); ++i) {
    ConvLayer L;
    const Weights lw = fe.pp(int64_t(i));
    L.conv = Conv1d::load(lw.pp("conv"), in, p_.conv_dim[i], p_.conv_kernel[i], p_.conv_stride[i], 0, 1, 1,
                          p_.conv_bias);
    if (p_.feat_norm == "layer") {
      L.layer_norm = LayerNorm::load(lw.pp("layer_norm"), p_.conv_dim[i], 1e-5f, true);  // nn.LayerNorm default eps
    } else if (i == 0) {
      L.group_w = lw.pp("layer_norm").get("weight", {p_.conv_dim[i]});
      L.group_b = lw.pp("layer_norm").get("bias", {p_.conv_dim[i]});
    }
    convs_.push_back(std::move(L));
    in = p_.conv_dim[i];
  }
  const int64_t C = p_.conv_dim.back(), D = p_.hidden;
  proj_norm_ = LayerNorm::load(base.pp("feature_projection").pp("layer_norm"), C, p_.eps, true);
  proj_ = Linear::load(base.pp("feature_projection").pp("projection"), C, D, true);
  const Weights enc = base.pp("encoder");
  Tensor pos_w = get_weight_norm(enc.pp("pos_conv_embed"), "conv", 2);
  IA_CHECK(pos_w.rank() == 3 && pos_w.dim(0) == D && pos_w.dim(1) == D / p_.pos_groups && pos_w.dim(2) == p_.pos_kernel,
           enc.full("pos_conv_embed.conv"), ": positional conv weight has shape ", shape_str(pos_w.shape()),
           ", expected [", D, ", ", D / p_.pos_groups, ", ", p_.pos_kernel, "]");
  pos_conv_ = Conv1d::from(pos_w, enc.pp("pos_conv_embed").pp("conv").get("bias", {D}), 1, p_.pos_kernel / 2, 1,
                           p_.pos_groups);
  enc_norm_ = LayerNorm::load(enc.pp("layer_norm"), D, p_.eps, true);
  SpeechLayerGeometry g;
  g.d_model = D;
  g.heads = p_.heads;
  g.ffn_dim = p_.ffn;
  g.eps = p_.eps;
  g.pre_norm = p_.stable_layer_norm;
  g.act = hidden_act;
  SpeechLayerNames n;
  n.attn = "attention";
  n.q = "q_proj";
  n.k = "k_proj";
  n.v = "v_proj";
  n.o = "out_proj";
  n.attn_norm = "layer_norm";
  n.ffn_norm = "final_layer_norm";
  n.fc1 = "feed_forward.intermediate_dense";
  n.fc2 = "feed_forward.output_dense";
  for (int64_t i = 0; i < p_.layers; ++i) layers_.push_back(SpeechEncoderLayer::load(enc.pp("layers").pp(i), g, n));
  if (p_.head == Wav2Vec2Head::CTC) lm_head_ = Linear::load(root.pp("lm_head"), D, p_.vocab, true);
  if (p_.head == Wav2Vec2Head::SequenceClassification) {
    projector_ = Linear::load(root.pp("projector"), D, p_.classifier_proj, true);
    classifier_ = Linear::load(root.pp("classifier"), p_.classifier_proj, p_.num_labels, true);
    if (p_.weighted_layer_sum) {
      Tensor w = root.get("layer_weights", {p_.layers + 1});
      layer_weights_.assign(w.f32(), w.f32() + w.numel());
      cpu::softmax_inplace(layer_weights_.data(), int64_t(layer_weights_.size()));
    }
  }
}

int64_t Wav2Vec2Model::frames_for(int64_t samples) const {
  int64_t t = samples;
  for (size_t i = 0; i < p_.conv_kernel.size(); ++i) {
    // torch.div(len - kernel, stride, rounding_mode="floor") + 1
    const int64_t num = t - p_.conv_kernel[i];
    const int64_t q = num >= 0 ? num / p_.conv_stride[i] : -((-num + p_.conv_stride[i] - 1) / p_.conv_stride[i]);
    t = q + 1;
  }
  return t;
}

void Wav2Vec2Model::feature_encoder(const float* audio, int64_t B, int64_t S, Tensor& feats) const {
  Tensor x = Tensor::f32({B, 1, S});
  std::memcpy(x.f32(), audio, size_t(B * S) * 4);
  for (size_t i = 0; i < convs_.size(); ++i) {
    const ConvLayer& L = convs_[i];
    IA_CHECK(x.dim(2) >= p_.conv_kernel[i], model_type_, ": input_values has ", S,
             " samples, too short for the feature encoder (conv layer ", i, " needs ", p_.conv_kernel[i],
             " frames, has ", x.dim(2), ")");
    Tensor y = L.conv.forward(x);
    const int64_t C = y.dim(1), T = y.dim(2);
    float* yp = y.f32();
    if (L.layer_norm.n > 0) {
      std::vector<float> t(size_t(B * T * C)), n(size_t(B * T * C));
      transpose_batched(yp, B, C, T, t.data());  // [B, C, T] -> [B, T, C]
      L.layer_norm.forward(t.data(), B * T, n.data());
      transpose_batched(n.data(), B, T, C, yp);
    } else if (L.group_w.defined()) {
      // GroupNorm with one group per channel: statistics over time, biased variance.
      const float* w = L.group_w.f32();
      const float* b = L.group_b.f32();
      for (int64_t r = 0; r < B * C; ++r) {
        float* row = yp + r * T;
        double mean = 0, var = 0;
        for (int64_t t = 0; t < T; ++t) mean += row[t];
        mean /= double(T);
        for (int64_t t = 0; t < T; ++t) var += (row[t] - mean) * (row[t] - mean);
        var /= double(T);
        const float inv = float(1.0 / std::sqrt(var + 1e-5));
        const int64_t c = r % C;
        for (int64_t t = 0; t < T; ++t) row[t] = float(row[t] - mean) * inv * w[c] + b[c];
      }
    }
    cpu::apply_act(feat_act_, yp, y.numel());
    x = std::move(y);
  }
  feats = std::move(x);
}

TensorMap Wav2Vec2Model::forward(const TensorMap& in) {
  const Tensor& values = require_input(in, "input_values", model_type_);
  IA_CHECK(values.rank() == 2 && values.dim(0) > 0 && values.dim(1) > 0, model_type_,
           ": input_values must be [batch, samples], got ", shape_str(values.shape()));
  const Tensor audio = values.to_f32();
  const int64_t B = audio.dim(0), S = audio.dim(1), D = p_.hidden;
  Tensor feats;
  feature_encoder(audio.f32(), B, S, feats);
  const int64_t C = feats.dim(1), T = feats.dim(2);

  // Frame mask from the sample mask (Wav2Vec2Model._get_feature_vector_attention_mask).
  std::vector<int64_t> frame_mask;
  if (const Tensor* m = optional_input(in, "attention_mask")) {
    IA_CHECK(m->rank() == 2 && m->dim(0) == B && m->dim(1) == S, model_type_, ": attention_mask shape ",
             shape_str(m->shape()), " does not match input_values [", B, ", ", S, "]");
    Tensor mi = m->to_i64();
    frame_mask.assign(size_t(B * T), 0);
    for (int64_t b = 0; b < B; ++b) {
      int64_t len = 0;
      for (int64_t s = 0; s < S; ++s) len += mi.i64()[b * S + s];
      const int64_t frames = frames_for(len);
      IA_CHECK(frames >= 1, model_type_, ": row ", b, " has ", len,
               " unpadded samples, too few for one feature frame");
      for (int64_t t = 0; t < std::min(frames, T); ++t) frame_mask[size_t(b * T + t)] = 1;
    }
  }
  const int64_t* key_mask = frame_mask.empty() ? nullptr : frame_mask.data();

  Tensor extract = Tensor::f32({B, T, C}), normed = Tensor::f32({B, T, C});
  transpose_batched(feats.f32(), B, C, T, extract.f32());
  proj_norm_.forward(extract.f32(), B * T, normed.f32());
  std::vector<float> x(size_t(B * T * D));
  proj_.forward(normed.f32(), B * T, x.data());

  // Encoder: zero padded frames, add the positional convolution.
  if (key_mask)
    for (int64_t r = 0; r < B * T; ++r)
      if (!key_mask[r]) std::fill(x.begin() + r * D, x.begin() + (r + 1) * D, 0.f);
  {
    Tensor xt = Tensor::f32({B, D, T});
    transpose_batched(x.data(), B, T, D, xt.f32());
    Tensor pos = pos_conv_.forward(xt);  // [B, D, T + 1] for an even kernel: SamePad drops the last frame
    const int64_t To = pos.dim(2);
    IA_CHECK(To >= T, model_type_, ": positional conv produced ", To, " frames for ", T);
    std::vector<float> pt(size_t(B * D * T));
    for (int64_t r = 0; r < B * D; ++r) std::memcpy(pt.data() + r * T, pos.f32() + r * To, size_t(T) * 4);
    cpu::apply_act(feat_act_, pt.data(), B * D * T);
    std::vector<float> pb(size_t(B * T * D));
    transpose_batched(pt.data(), B, D, T, pb.data());
    cpu::add_inplace(x.data(), pb.data(), B * T * D);
  }
  std::vector<float> tmp(size_t(B * T * D));
  const bool keep_all = p_.head == Wav2Vec2Head::SequenceClassification && p_.weighted_layer_sum;
  std::vector<std::vector<float>> states;
  if (!p_.stable_layer_norm) {
    enc_norm_.forward(x.data(), B * T, tmp.data());
    x.swap(tmp);
  }
  for (const SpeechEncoderLayer& L : layers_) {
    if (keep_all) states.push_back(x);
    L.forward(x.data(), B, T, key_mask, work_);
  }
  if (p_.stable_layer_norm) {
    enc_norm_.forward(x.data(), B * T, tmp.data());
    x.swap(tmp);
  }
  if (keep_all) states.push_back(x);

  Tensor last = Tensor::f32({B, T, D});
  std::memcpy(last.f32(), x.data(), size_t(B * T * D) * 4);
  TensorMap out{{"last_hidden_state", last}, {"extract_features", normed}};
  if (p_.head == Wav2Vec2Head::CTC) {
    const int64_t V = p_.vocab;
    Tensor logits = Tensor::f32({B, T, V});
    lm_head_.forward(x.data(), B * T, logits.f32());
    Tensor ids = Tensor::empty(DType::I64, {B, T});
    for (int64_t r = 0; r < B * T; ++r) {
      const float* l = logits.f32() + r * V;
      ids.i64()[r] = int64_t(std::max_element(l, l + V) - l);  // first maximum, as torch.argmax
    }
    out["logits"] = logits;
    out["greedy_ctc_ids"] = ids;
  } else if (p_.head == Wav2Vec2Head::SequenceClassification) {
    const float* h = x.data();
    std::vector<float> mixed;
    if (keep_all) {
      mixed.assign(size_t(B * T * D), 0.f);
      for (size_t l = 0; l < states.size(); ++l)
        for (int64_t i = 0; i < B * T * D; ++i) mixed[size_t(i)] += layer_weights_[l] * states[l][size_t(i)];
      h = mixed.data();
    }
    const int64_t P = p_.classifier_proj;
    std::vector<float> proj(size_t(B * T * P)), pooled(size_t(B * P), 0.f);
    projector_.forward(h, B * T, proj.data());
    for (int64_t b = 0; b < B; ++b) {
      int64_t n = 0;
      for (int64_t t = 0; t < T; ++t) {
        if (key_mask && !key_mask[b * T + t]) continue;
        ++n;
        for (int64_t j = 0; j < P; ++j) pooled[size_t(b * P + j)] += proj[size_t((b * T + t) * P + j)];
      }
      for (int64_t j = 0; j < P; ++j) pooled[size_t(b * P + j)] /= float(n);
    }
    Tensor logits = Tensor::f32({B, p_.num_labels});
    classifier_.forward(pooled.data(), B, logits.f32());
    out["logits"] = logits;
  }
  return out;
}

std::vector<std::string> Wav2Vec2Model::tasks() const {
  switch (p_.head) {
    case Wav2Vec2Head::CTC: return {"automatic-speech-recognition"};
    case Wav2Vec2Head::SequenceClassification: return {"audio-classification"};
    case Wav2Vec2Head::Base: return {"feature-extraction"};
  }
  return {};
}

nlohmann::json Wav2Vec2Model::describe() const {
  nlohmann::json j;
  j["template"] = "speech";
  j["model_type"] = model_type_;
  j["architecture"] = p_.architecture;
  j["head"] = p_.head == Wav2Vec2Head::CTC ? "ctc" : p_.head == Wav2Vec2Head::SequenceClassification ? "sequence-classification" : "base-model";
  j["feature_encoder"] = {{"conv_dim", p_.conv_dim},     {"conv_kernel", p_.conv_kernel},
                          {"conv_stride", p_.conv_stride}, {"conv_bias", p_.conv_bias},
                          {"norm", p_.feat_norm},        {"activation", p_.feat_act}};
  j["positional_conv"] = {{"kernel", p_.pos_kernel}, {"groups", p_.pos_groups}, {"weight_norm_dim", 2}};
  j["encoder"] = {{"layers", p_.layers},
                  {"hidden_size", p_.hidden},
                  {"heads", p_.heads},
                  {"ffn_dim", p_.ffn},
                  {"activation", p_.hidden_act},
                  {"norm", p_.stable_layer_norm ? "pre-norm (stable layer norm)" : "post-norm"},
                  {"eps", p_.eps}};
  if (p_.head == Wav2Vec2Head::CTC) j["vocab_size"] = p_.vocab;
  if (p_.head == Wav2Vec2Head::SequenceClassification)
    j["classifier"] = {{"proj", p_.classifier_proj}, {"labels", p_.num_labels}, {"weighted_layer_sum", p_.weighted_layer_sum}};
  return j;
}

}  // namespace ia
