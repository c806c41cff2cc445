#include "templates/vision_text/clip_model.h"

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "templates/vision/vision_config.h"
#include "templates/vision_text/clip_towers.h"

namespace ia {

void l2_normalize_rows(float* x, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r) {
    float* v = x + r * n;
    double ss = 0;
    for (int64_t i = 0; i < n; ++i) ss += double(v[i]) * double(v[i]);
    const float norm = float(std::sqrt(ss));
    for (int64_t i = 0; i < n; ++i) v[i] /= norm;
  }
}

namespace {

nlohmann::json tower_json(const VisionEncoderSpec& s, const std::string& act) {
  return {{"hidden_size", s.hidden},   {"num_layers", s.layers}, {"num_heads", s.heads},
          {"intermediate_size", s.intermediate}, {"activation", act}, {"layer_norm_eps", s.eps}};
}

// model_type "clip": CLIPModel or CLIPForImageClassification.
class ClipModel : public Model {
 public:
  explicit ClipModel(const ModelContext& ctx);
  const std::string& model_type() const override { return model_type_; }
  Family family() const override { return Family::VisionText; }
  TensorMap forward(const TensorMap& inputs) override;
  nlohmann::json describe() const override;
  std::vector<std::string> tasks() const override {
    if (classifier_) return {"image-classification", "image-feature-extraction"};
    return {"zero-shot-image-classification", "image-text-similarity", "image-feature-extraction",
            "feature-extraction"};
  }

 private:
  std::string model_type_ = "clip", architecture_;
  bool classifier_ = false;
  int64_t projection_dim_ = 0, num_labels_ = 0;
  ClipVisionTower vision_;
  ClipTextTower text_;
  Linear visual_proj_, text_proj_, cls_head_;
  float logit_scale_ = 0.f;  // exp(logit_scale)
};

ClipModel::ClipModel(const ModelContext& ctx) : architecture_(ctx.architecture) {
  const HFConfig& c = ctx.config;
  IA_CHECK(ctx.checkpoint, c.label(), ": no checkpoint opened");
  classifier_ = architecture_ == "CLIPForImageClassification";
  IA_CHECK(architecture_.empty() || architecture_ == "CLIPModel" || classifier_, c.label(), ": architecture '",
           architecture_, "' is not implemented for clip (supported: CLIPModel, CLIPForImageClassification)");
  const Weights root(ctx.checkpoint);
  vision_ = ClipVisionTower::load(clip_vision_config(c), root.pp("vision_model"));
  if (classifier_) {
    num_labels_ = config_num_labels(c);
    if (num_labels_ > 0) cls_head_ = Linear::load(root.pp("classifier"), vision_.hidden(), num_labels_, true);
    return;
  }
  text_ = ClipTextTower::load(clip_text_config(c), root.pp("text_model"));
  projection_dim_ = c.get_int("projection_dim", 512);
  visual_proj_ = Linear::load(root.pp("visual_projection"), vision_.hidden(), projection_dim_, false);
  text_proj_ = Linear::load(root.pp("text_projection"), text_.hidden(), projection_dim_, false);
  Tensor ls = root.get("logit_scale");
  IA_CHECK(ls.numel() == 1, root.checkpoint().file_of("logit_scale"), ": logit_scale must be a scalar, got shape ",
           shape_str(ls.shape()));
  logit_scale_ = std::exp(ls.f32()[0]);
}

TensorMap ClipModel::forward(const TensorMap& in) {
  const Tensor* px = optional_input(in, "pixel_values");
  const Tensor* ids = optional_input(in, "input_ids");
  TensorMap out;
  if (classifier_) {
    IA_CHECK(px, model_type_, ": missing input 'pixel_values'");
    Tensor last;
    vision_.forward(*px, &last, nullptr);
    const int64_t B = last.dim(0), T = last.dim(1), H = last.dim(2);
    Tensor mean = Tensor::zeros(DType::F32, {B, H});
    for (int64_t b = 0; b < B; ++b) {
      float* m = mean.f32() + b * H;
      for (int64_t t = 1; t < T; ++t) cpu::add_inplace(m, last.f32() + (b * T + t) * H, H);
      cpu::scale_inplace(m, 1.f / float(T - 1), H);
    }
    out["last_hidden_state"] = last;
    out["logits"] = cls_head_.defined() ? cls_head_.forward(mean) : mean;
    return out;
  }
  IA_CHECK(px || ids, model_type_, ": needs pixel_values, input_ids or both");
  Tensor image_embeds, text_embeds;
  if (px) {
    Tensor last, pooled;
    vision_.forward(*px, &last, &pooled);
    image_embeds = visual_proj_.forward(pooled);
    l2_normalize_rows(image_embeds.f32(), image_embeds.dim(0), projection_dim_);
    out["vision_last_hidden_state"] = last;
    out["vision_pooler_output"] = pooled;
    out["image_embeds"] = image_embeds;
  }
  if (ids) {
    Tensor last, pooled;
    text_.forward(*ids, optional_input(in, "attention_mask"), optional_input(in, "position_ids"), &last, &pooled);
    text_embeds = text_proj_.forward(pooled);
    l2_normalize_rows(text_embeds.f32(), text_embeds.dim(0), projection_dim_);
    out["text_last_hidden_state"] = last;
    out["text_pooler_output"] = pooled;
    out["text_embeds"] = text_embeds;
  }
  if (px && ids) {
    const int64_t Nt = text_embeds.dim(0), Ni = image_embeds.dim(0);
    Tensor per_text = Tensor::f32({Nt, Ni});
    cpu::gemm_nt(Nt, Ni, projection_dim_, text_embeds.f32(), projection_dim_, image_embeds.f32(), projection_dim_,
                 per_text.f32(), Ni);
    cpu::scale_inplace(per_text.f32(), logit_scale_, Nt * Ni);
    Tensor per_image = Tensor::f32({Ni, Nt});
    for (int64_t t = 0; t < Nt; ++t)
      for (int64_t i = 0; i < Ni; ++i) per_image.f32()[i * Nt + t] = per_text.f32()[t * Ni + i];
    out["logits_per_text"] = per_text;
    out["logits_per_image"] = per_image;
  }
  return out;
}

nlohmann::json ClipModel::describe() const {
  nlohmann::json j;
  j["template"] = "vision-text";
  j["model_type"] = model_type_;
  j["architecture"] = architecture_.empty() ? "CLIPModel" : architecture_;
  const PatchEmbeddingSpec& ps = vision_.embeddings().spec();
  j["vision"] = tower_json(vision_.encoder_spec(), vision_.act_name());
  j["vision"]["image_size"] = ps.image_h;
  j["vision"]["patch_size"] = ps.patch_h;
  j["vision"]["sequence_length"] = vision_.seq_len();
  if (classifier_) {
    j["head"] = "classifier(mean of patch tokens)";
    j["num_labels"] = num_labels_;
    return j;
  }
  j["text"] = tower_json(text_.encoder_spec(), text_.act_name());
  j["text"]["max_position_embeddings"] = text_.max_positions();
  j["text"]["eos_token_id"] = text_.eos_token_id();
  j["text"]["pooling"] = text_.eos_token_id() == 2 ? "argmax(input_ids) (legacy eos_token_id == 2)" : "first eos_token_id";
  j["projection_dim"] = projection_dim_;
  j["logit_scale"] = logit_scale_;
  return j;
}

// model_type "clip_vision_model": CLIPVisionModel / CLIPVisionModelWithProjection.
class ClipVisionModel : public Model {
 public:
  explicit ClipVisionModel(const ModelContext& ctx);
  const std::string& model_type() const override { return model_type_; }
  Family family() const override { return Family::Vision; }
  TensorMap forward(const TensorMap& inputs) override;
  nlohmann::json describe() const override;
  std::vector<std::string> tasks() const override { return {"image-feature-extraction"}; }

 private:
  std::string model_type_ = "clip_vision_model", architecture_;
  bool projection_ = false;
  ClipVisionTower vision_;
  Linear visual_proj_;
};

ClipVisionModel::ClipVisionModel(const ModelContext& ctx) : architecture_(ctx.architecture) {
  const HFConfig& c = ctx.config;
  IA_CHECK(ctx.checkpoint, c.label(), ": no checkpoint opened");
  projection_ = architecture_ == "CLIPVisionModelWithProjection";
  IA_CHECK(architecture_.empty() || architecture_ == "CLIPVisionModel" || projection_, c.label(), ": architecture '",
           architecture_,
           "' is not implemented for clip_vision_model (supported: CLIPVisionModel, CLIPVisionModelWithProjection)");
  const Weights root(ctx.checkpoint);
  vision_ = ClipVisionTower::load(c, root.pp("vision_model"));
  if (projection_)
    visual_proj_ =
        Linear::load(root.pp("visual_projection"), vision_.hidden(), c.get_int("projection_dim", 512), false);
}

TensorMap ClipVisionModel::forward(const TensorMap& in) {
  Tensor last, pooled;
  vision_.forward(require_input(in, "pixel_values", model_type_), &last, &pooled);
  if (projection_) return {{"last_hidden_state", last}, {"image_embeds", visual_proj_.forward(pooled)}};
  return {{"last_hidden_state", last}, {"pooler_output", pooled}};
}

nlohmann::json ClipVisionModel::describe() const {
  nlohmann::json j = tower_json(vision_.encoder_spec(), vision_.act_name());
  j["template"] = "vision";
  j["model_type"] = model_type_;
  j["architecture"] = architecture_.empty() ? "CLIPVisionModel" : architecture_;
  j["image_size"] = vision_.embeddings().spec().image_h;
  j["patch_size"] = vision_.embeddings().spec().patch_h;
  j["sequence_length"] = vision_.seq_len();
  j["head"] = projection_ ? "visual_projection(post_layernorm(CLS))" : "post_layernorm(CLS)";
  return j;
}

}  // namespace

std::unique_ptr<Model> make_clip_model(const ModelContext& ctx) { return std::make_unique<ClipModel>(ctx); }
std::unique_ptr<Model> make_clip_vision_model(const ModelContext& ctx) {
  return std::make_unique<ClipVisionModel>(ctx);
}

}  // namespace ia
