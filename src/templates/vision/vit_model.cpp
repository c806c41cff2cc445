#include "templates/vision/vit_model.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "parts/nn.h"
#include "parts/vision_embeddings.h"
#include "parts/vision_encoder.h"
#include "templates/vision/vision_config.h"

namespace ia {

namespace {

class VitModel : public Model {
 public:
  explicit VitModel(const ModelContext& ctx);
  const std::string& model_type() const override { return model_type_; }
  Family family() const override { return Family::Vision; }
  TensorMap forward(const TensorMap& inputs) override;
  nlohmann::json describe() const override;
  std::vector<std::string> tasks() const override {
    if (classifier_) return {"image-classification", "image-feature-extraction"};
    return {"image-feature-extraction"};
  }

 private:
  std::string model_type_ = "vit", architecture_;
  int64_t hidden_ = 0, num_labels_ = 0;
  bool classifier_ = false, pooler_ = false;
  PatchEmbeddings emb_;
  VisionEncoder enc_;
  LayerNorm final_ln_;
  Linear pool_dense_, cls_head_;  // cls_head_ undefined: Identity (num_labels == 0)
  std::string act_name_;
};

VitModel::VitModel(const ModelContext& ctx) : architecture_(ctx.architecture) {
  const HFConfig& c = ctx.config;
  IA_CHECK(ctx.checkpoint, c.label(), ": no checkpoint opened");
  hidden_ = c.get_int("hidden_size", 768);
  VisionEncoderSpec es;
  es.who = c.label();
  es.hidden = hidden_;
  es.heads = c.get_int("num_attention_heads", 12);
  es.intermediate = c.get_int("intermediate_size", 3072);
  es.layers = c.get_int("num_hidden_layers", 12);
  es.eps = float(c.get_float("layer_norm_eps", 1e-12));
  act_name_ = c.get_string("hidden_act", "gelu");
  es.act = cpu::act_from_name(act_name_, c.label());

  // Which head: the architecture decides (ViTModel has the pooler, the classifier has none).
  classifier_ = architecture_ == "ViTForImageClassification";
  IA_CHECK(architecture_.empty() || architecture_ == "ViTModel" || classifier_,
           c.label(), ": architecture '", architecture_,
           "' is not implemented for vit (supported: ViTModel, ViTForImageClassification)");
  const Weights root(ctx.checkpoint);
  const Weights base = resolve_base(root, {"vit", ""}, "embeddings.cls_token");

  PatchEmbeddingSpec ps;
  ps.who = c.label();
  ps.hidden = hidden_;
  ps.channels = c.get_int("num_channels", 3);
  std::tie(ps.image_h, ps.image_w) = config_int_pair(c, "image_size", 224);
  std::tie(ps.patch_h, ps.patch_w) = config_int_pair(c, "patch_size", 16);
  const Weights emb = base.pp("embeddings");
  emb_ = PatchEmbeddings::load(ps, emb.pp("patch_embeddings").pp("projection"), &emb, "cls_token", &emb,
                               "position_embeddings");

  VisionEncoderNames n;
  n.ln1 = "layernorm_before";
  n.ln2 = "layernorm_after";
  n.q = "attention.attention.query";
  n.k = "attention.attention.key";
  n.v = "attention.attention.value";
  n.o = "attention.output.dense";
  n.fc1 = "intermediate.dense";
  n.fc2 = "output.dense";
  enc_ = VisionEncoder::load(es, base.pp("encoder").pp("layer"), n);
  final_ln_ = LayerNorm::load(base.pp("layernorm"), hidden_, es.eps);

  if (classifier_) {
    num_labels_ = config_num_labels(c);
    if (num_labels_ > 0) cls_head_ = Linear::load(root.pp("classifier"), hidden_, num_labels_, true);
  } else if (base.has_module("pooler")) {
    pooler_ = true;  // ViTModel(add_pooling_layer=False) checkpoints store no pooler
    pool_dense_ = Linear::load(base.pp("pooler").pp("dense"), hidden_, hidden_, true);
  }
}

TensorMap VitModel::forward(const TensorMap& in) {
  const Tensor& px = require_input(in, "pixel_values", model_type_);
  Tensor x = emb_.forward(px);
  enc_.forward(x);
  const int64_t B = x.dim(0), T = x.dim(1), H = hidden_;
  Tensor seq = Tensor::f32({B, T, H});
  final_ln_.forward(x.f32(), B * T, seq.f32());
  TensorMap out{{"last_hidden_state", seq}};
  Tensor cls = Tensor::f32({B, H});
  for (int64_t b = 0; b < B; ++b) std::memcpy(cls.f32() + b * H, seq.f32() + b * T * H, size_t(H) * 4);
  if (classifier_) {
    out["logits"] = cls_head_.defined() ? cls_head_.forward(cls) : cls;
  } else if (pooler_) {
    Tensor pooled = pool_dense_.forward(cls);
    cpu::apply_act(cpu::Act::Tanh, pooled.f32(), pooled.numel());
    out["pooler_output"] = pooled;
  }
  return out;
}

nlohmann::json VitModel::describe() const {
  const PatchEmbeddingSpec& ps = emb_.spec();
  const VisionEncoderSpec& es = enc_.spec();
  nlohmann::json j;
  j["template"] = "vision";
  j["model_type"] = model_type_;
  j["architecture"] = architecture_;
  j["image_size"] = {ps.image_h, ps.image_w};
  j["patch_size"] = {ps.patch_h, ps.patch_w};
  j["num_channels"] = ps.channels;
  j["sequence_length"] = emb_.seq_len();
  j["hidden_size"] = es.hidden;
  j["num_layers"] = es.layers;
  j["num_heads"] = es.heads;
  j["intermediate_size"] = es.intermediate;
  j["activation"] = act_name_;
  j["layer_norm_eps"] = es.eps;
  j["head"] = classifier_ ? "classifier(CLS)" : pooler_ ? "pooler(tanh, CLS)" : "none";
  if (classifier_) j["num_labels"] = num_labels_;
  return j;
}

}  // namespace

std::unique_ptr<Model> make_vit_model(const ModelContext& ctx) { return std::make_unique<VitModel>(ctx); }

}  // namespace ia
