#include "templates/sam/sam_model.h"

#include "core/error.h"
#include "parts/weights.h"

namespace ia {

SamModel::SamModel(const ModelContext& ctx) : p_(SamParams::from_config(ctx.config)) {
  Weights root(ctx.checkpoint);
  pe_ = SamPositionalEmbedding(
      root.pp("shared_image_embedding").get("positional_embedding", {2, p_.vision.num_pos_feats}));
  vision_ = std::make_unique<SamVisionEncoder>(p_.vision, root.pp("vision_encoder"));
  prompt_ = std::make_unique<SamPromptEncoder>(p_.prompt, pe_, root.pp("prompt_encoder"));
  decoder_ = std::make_unique<SamMaskDecoder>(p_.decoder, root.pp("mask_decoder"));
  image_pe_ = pe_.grid(p_.prompt.embedding_size());
}

TensorMap SamModel::forward(const TensorMap& inputs) {
  const Tensor* pixels = optional_input(inputs, "pixel_values");
  const Tensor* given = optional_input(inputs, "image_embeddings");
  IA_CHECK(!(pixels && given), "sam: give either pixel_values or image_embeddings, not both");
  TensorMap out;
  Tensor emb;
  if (pixels) {
    emb = vision_->forward(*pixels);
    out["image_embeddings"] = emb;
  } else if (given) {
    emb = given->to_f32();
  } else {
    IA_CHECK(last_embeddings_.defined(), "sam: either pixel_values or image_embeddings must be provided");
    emb = last_embeddings_;
  }
  last_embeddings_ = emb;

  SamPromptInputs pin;
  pin.points = optional_input(inputs, "input_points");
  pin.boxes = optional_input(inputs, "input_boxes");
  pin.masks = optional_input(inputs, "input_masks");
  Tensor default_labels;
  pin.labels = optional_input(inputs, "input_labels");
  if (pin.points && !pin.labels) {
    // transformers: labels default to ones (foreground) for every point.
    const Tensor& pts = *pin.points;
    IA_CHECK(pts.rank() == 4, "sam: input_points ", shape_str(pts.shape()), " must be 4-D");
    default_labels = Tensor::f32({pts.dim(0), pts.dim(1), pts.dim(2)}).to_i64();
    for (int64_t i = 0; i < default_labels.numel(); ++i) default_labels.i64()[i] = 1;
    pin.labels = &default_labels;
  }
  if (pin.points)
    IA_CHECK(pin.points->dim(0) == emb.dim(0), "sam: ", pin.points->dim(0), " point batches for ", emb.dim(0),
             " images (input_points batch must match the image batch)");
  bool multimask = true;
  if (const Tensor* mm = optional_input(inputs, "multimask_output")) {
    IA_CHECK(mm->numel() == 1, "sam: multimask_output must be a scalar");
    multimask = mm->to_f32().f32()[0] != 0.f;
  }
  SamPromptEmbeddings pr = prompt_->forward(pin);
  SamMaskDecoder::Output d = decoder_->forward(emb, image_pe_, pr.sparse, pr.dense, multimask);
  out["iou_scores"] = d.iou_scores;
  out["pred_masks"] = d.masks;
  return out;
}

TensorMap SamModel::run_case(const std::string&, const TensorMap& inputs, const nlohmann::json& case_info) {
  TensorMap in = inputs;
  if (!in.count("multimask_output")) {
    const std::string call = case_info.value("call", std::string());
    if (call.find("multimask_output=False") != std::string::npos)
      in["multimask_output"] = Tensor::from_vector_i64({0}, {1});
  }
  return forward(in);
}

nlohmann::json SamModel::describe() const {
  nlohmann::json v = {{"hidden_size", p_.vision.hidden},
                      {"layers", p_.vision.layers},
                      {"heads", p_.vision.heads},
                      {"image_size", p_.vision.image_size},
                      {"patch_size", p_.vision.patch_size},
                      {"window_size", p_.vision.window_size},
                      {"global_attn_indexes", p_.vision.global_attn_indexes},
                      {"use_rel_pos", p_.vision.use_rel_pos},
                      {"use_abs_pos", p_.vision.use_abs_pos},
                      {"mlp_dim", p_.vision.mlp_dim}};
  nlohmann::json d = {{"hidden_size", p_.decoder.hidden},
                      {"layers", p_.decoder.layers},
                      {"heads", p_.decoder.heads},
                      {"num_multimask_outputs", p_.decoder.num_multimask_outputs},
                      {"iou_head_depth", p_.decoder.iou_head_depth}};
  return {{"template", "sam"},
          {"vision_encoder", v},
          {"prompt_encoder", {{"image_size", p_.prompt.image_size}, {"embedding_size", p_.prompt.embedding_size()}}},
          {"mask_decoder", d}};
}

FamilyTemplate sam_template() {
  return {Family::Diffusion, {"sam"},
          [](const ModelContext& ctx) -> std::unique_ptr<Model> { return std::make_unique<SamModel>(ctx); }};
}

}  // namespace ia
