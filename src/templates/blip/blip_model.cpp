#include "templates/blip/blip_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "parts/weights.h"
#include "templates/blip/blip_generate.h"

namespace ia {

BlipModel::BlipModel(const ModelContext& ctx) : p_(BlipParams::from_config(ctx.config)) {
  Weights root(ctx.checkpoint);
  const std::string& arch = ctx.architecture;
  if (arch == "BlipForConditionalGeneration" || (arch.empty() && root.has_module("text_decoder"))) {
    captioning_ = true;
  } else if (arch == "BlipModel" || (arch.empty() && root.has_module("text_model"))) {
    captioning_ = false;
  } else if (arch == "BlipForImageTextRetrieval" || (arch.empty() && root.has_module("itm_head"))) {
    retrieval_ = true;
  } else if (arch == "BlipForQuestionAnswering") {
    vqa_ = true;
  } else {
    throw Unsupported(cat(ctx.dir, "/config.json: blip architecture '", arch,
                          "' is not supported (BlipModel, BlipForConditionalGeneration, BlipForImageTextRetrieval, "
                          "BlipForQuestionAnswering are)"));
  }
  vision_ = std::make_unique<BlipVisionModel>(p_.vision, root.pp("vision_model"));
  if (captioning_) {
    Weights td = root.pp("text_decoder");
    text_ = std::make_unique<BlipTextModel>(p_.text, td.pp("bert"), false);
    IA_CHECK(text_->has_cross_attention(), ctx.dir, ": text_decoder has no crossattention weights");
    lm_head_ = std::make_unique<BlipLMHead>(p_.text, td.pp("cls").pp("predictions"), text_->word_embeddings());
  } else if (vqa_) {
    text_encoder_ = std::make_unique<BlipTextModel>(p_.text, root.pp("text_encoder"), false);
    Weights td = root.pp("text_decoder");
    text_ = std::make_unique<BlipTextModel>(p_.text, td.pp("bert"), false);
    IA_CHECK(text_->has_cross_attention() && text_encoder_->has_cross_attention(), ctx.dir,
             ": text_encoder / text_decoder have no crossattention weights");
    lm_head_ = std::make_unique<BlipLMHead>(p_.text, td.pp("cls").pp("predictions"), text_->word_embeddings());
  } else if (retrieval_) {
    const int64_t D = ctx.config.get_int("image_text_hidden_size", 256);
    text_ = std::make_unique<BlipTextModel>(p_.text, root.pp("text_encoder"), false);
    visual_projection_ = Linear::load(root.pp("vision_proj"), p_.vision.hidden, D, true);
    text_projection_ = Linear::load(root.pp("text_proj"), p_.text.hidden, D, true);
    itm_head_ = Linear::load(root.pp("itm_head"), p_.text.hidden, 2, true);
  } else {
    text_ = std::make_unique<BlipTextModel>(p_.text, root.pp("text_model"), true);
    visual_projection_ = Linear::load(root.pp("visual_projection"), p_.vision.hidden, p_.projection_dim, false);
    text_projection_ = Linear::load(root.pp("text_projection"), p_.text.hidden, p_.projection_dim, false);
    logit_scale_ = root.get("logit_scale").f32()[0];
  }
}

namespace {

// Checks ids [B, T] (and an optional mask of the same shape); returns I64 copies.
Tensor ids_of(const Tensor& ids, const char* what) {
  IA_CHECK(ids.rank() == 2 && ids.dim(1) > 0, "blip: ", what, " ", shape_str(ids.shape()), " must be [B, T]");
  return ids.to_i64();
}

// x / ||x|| per row; `eps` > 0 clamps the norm as torch.nn.functional.normalize does.
void l2_normalize_rows(Tensor& x, float eps = 0.f) {
  const int64_t rows = x.dim(0), n = x.dim(1);
  for (int64_t r = 0; r < rows; ++r) {
    float* p = x.f32() + r * n;
    float ss = 0.f;
    for (int64_t i = 0; i < n; ++i) ss += p[i] * p[i];
    const float norm = std::max(std::sqrt(ss), eps);
    for (int64_t i = 0; i < n; ++i) p[i] /= norm;
  }
}

// Row 0 of every [B, T, C] sequence -> [B, C].
Tensor first_tokens(const Tensor& x) {
  const int64_t B = x.dim(0), T = x.dim(1), C = x.dim(2);
  Tensor r = Tensor::f32({B, C});
  for (int64_t b = 0; b < B; ++b) std::memcpy(r.f32() + b * C, x.f32() + b * T * C, size_t(C) * sizeof(float));
  return r;
}

}  // namespace

TensorMap BlipModel::forward(const TensorMap& inputs) {
  const Tensor& pixels = require_input(inputs, "pixel_values", "blip");
  Tensor ids = ids_of(require_input(inputs, "input_ids", "blip"), "input_ids");
  const int64_t B = ids.dim(0), T = ids.dim(1);
  Tensor mask;
  if (const Tensor* m = optional_input(inputs, "attention_mask")) {
    IA_CHECK(m->shape() == ids.shape(), "blip: attention_mask ", shape_str(m->shape()), " != input_ids ",
             shape_str(ids.shape()));
    mask = m->to_i64();
  }
  Tensor image = vision_->forward(pixels);  // [Bi, Ti, C]
  TensorMap out;
  if (vqa_) {
    // What BlipForQuestionAnswering's forward returns besides the training loss.
    out["image_embeds"] = image;
    out["last_hidden_state"] = question_embeds(inputs, image);
    return out;
  }
  if (captioning_) {
    IA_CHECK(image.dim(0) == B, "blip: ", image.dim(0), " images for ", B, " text rows");
    Tensor h = text_->run(ids.i64(), B, T, mask.defined() ? mask.i64() : nullptr, true, &image, nullptr);
    Tensor logits = Tensor::f32({B, T, p_.text.vocab});
    lm_head_->forward(h.f32(), B * T, logits.f32());
    out["logits"] = logits;
    out["image_embeds"] = image;
    out["last_hidden_state"] = image;
    return out;
  }
  if (retrieval_) {
    bool itm = true;
    if (const Tensor* u = optional_input(inputs, "use_itm_head")) itm = u->to_f32().f32()[0] != 0.f;
    out["last_hidden_state"] = image;
    if (itm) {
      IA_CHECK(image.dim(0) == B, "blip: ", image.dim(0), " images for ", B, " text rows");
      Tensor q = text_->run(ids.i64(), B, T, mask.defined() ? mask.i64() : nullptr, false, &image, nullptr);
      out["itm_score"] = itm_head_.forward(first_tokens(q));
      out["question_embeds"] = q;
      return out;
    }
    Tensor q = text_->run(ids.i64(), B, T, mask.defined() ? mask.i64() : nullptr, false, nullptr, nullptr);
    Tensor image_feat = visual_projection_.forward(first_tokens(image));
    Tensor text_feat = text_projection_.forward(first_tokens(q));
    l2_normalize_rows(image_feat, 1e-12f);
    l2_normalize_rows(text_feat, 1e-12f);
    const int64_t Bi = image_feat.dim(0), D = image_feat.dim(1);
    Tensor sim = Tensor::f32({Bi, B});
    for (int64_t i = 0; i < Bi; ++i)
      for (int64_t t = 0; t < B; ++t)
        sim.f32()[i * B + t] = cpu::dot(image_feat.f32() + i * D, text_feat.f32() + t * D, D);
    out["itm_score"] = sim;
    out["question_embeds"] = q;
    return out;
  }
  Tensor h = text_->run(ids.i64(), B, T, mask.defined() ? mask.i64() : nullptr, false, nullptr, nullptr);
  Tensor text_embeds = text_projection_.forward(text_->pool(h));
  Tensor image_embeds = visual_projection_.forward(vision_->pool(image));
  l2_normalize_rows(text_embeds);
  l2_normalize_rows(image_embeds);
  const int64_t Bi = image_embeds.dim(0), D = p_.projection_dim;
  const float scale = std::exp(logit_scale_);
  Tensor per_text = Tensor::f32({B, Bi}), per_image = Tensor::f32({Bi, B});
  for (int64_t t = 0; t < B; ++t)
    for (int64_t i = 0; i < Bi; ++i) {
      float s = cpu::dot(text_embeds.f32() + t * D, image_embeds.f32() + i * D, D) * scale;
      per_text.f32()[t * Bi + i] = s;
      per_image.f32()[i * B + t] = s;
    }
  out["text_embeds"] = text_embeds;
  out["image_embeds"] = image_embeds;
  out["logits_per_text"] = per_text;
  out["logits_per_image"] = per_image;
  out["vision_last_hidden_state"] = image;
  out["text_last_hidden_state"] = h;
  return out;
}

TensorMap BlipModel::generate(const TensorMap& inputs, const GenerateOptions& opts) {
  if (!captioning_ && !vqa_) throw Unsupported("blip: this head has no text decoder to generate with");
  const Tensor& pixels = require_input(inputs, "pixel_values", "blip");
  Tensor image = vision_->forward(pixels);
  const int64_t B = image.dim(0);
  const BlipTextParams& tp = p_.text;
  if (vqa_) {
    // BlipForQuestionAnswering.generate: the question attends to the image, the answer
    // decoder starts from [bos] and cross-attends to the question.
    Tensor q = question_embeds(inputs, image);
    std::vector<int64_t> bos(size_t(B), tp.bos_token_id), ones(size_t(B), 1);
    return blip_greedy_decode(*text_, *lm_head_, tp, bos, ones, B, 1, q, opts);
  }
  // Prompt as BlipForConditionalGeneration.generate builds it.
  Tensor ids;
  if (const Tensor* given = optional_input(inputs, "input_ids")) {
    ids = ids_of(*given, "input_ids").clone();
    IA_CHECK(ids.dim(0) == B, "blip: ", ids.dim(0), " prompts for ", B, " images");
  } else {
    ids = Tensor::from_vector_i64(std::vector<int64_t>(size_t(2 * B), tp.eos_token_id), {B, 2});
  }
  const int64_t L = ids.dim(1);
  IA_CHECK(L >= 2, "blip: generate drops the prompt's last token ([SEP]); input_ids needs at least 2 tokens");
  const int64_t P = L - 1;
  std::vector<int64_t> prompt(size_t(B * P)), mask(size_t(B * P), 1);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < P; ++t) prompt[size_t(b * P + t)] = t == 0 ? tp.bos_token_id : ids.i64()[b * L + t];
  const int64_t eos = tp.sep_token_id;
  if (const Tensor* m = optional_input(inputs, "attention_mask")) {
    IA_CHECK(m->shape() == ids.shape(), "blip: attention_mask ", shape_str(m->shape()), " != input_ids ",
             shape_str(ids.shape()));
    Tensor mi = m->to_i64();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < P; ++t) mask[size_t(b * P + t)] = mi.i64()[b * L + t];
  } else if (tp.has_pad && tp.pad_token_id != eos &&
             std::find(prompt.begin(), prompt.end(), tp.pad_token_id) != prompt.end()) {
    // generate() infers the mask from pad tokens when the pad id is not the eos id.
    for (size_t i = 0; i < prompt.size(); ++i) mask[i] = prompt[i] != tp.pad_token_id;
  }
  return blip_greedy_decode(*text_, *lm_head_, tp, prompt, mask, B, P, image, opts);
}

TensorMap BlipModel::run_case(const std::string& case_name, const TensorMap& inputs, const nlohmann::json& case_info) {
  TensorMap in = inputs;
  if (retrieval_ && !in.count("use_itm_head") &&
      case_info.value("call", std::string()).find("use_itm_head=False") != std::string::npos)
    in["use_itm_head"] = Tensor::from_vector_i64({0}, {1});
  return forward(in);
}

Tensor BlipModel::question_embeds(const TensorMap& inputs, const Tensor& image) const {
  Tensor ids = ids_of(require_input(inputs, "input_ids", "blip"), "input_ids");
  const int64_t B = ids.dim(0), T = ids.dim(1);
  IA_CHECK(image.dim(0) == B, "blip: ", image.dim(0), " images for ", B, " questions");
  Tensor mask;
  if (const Tensor* m = optional_input(inputs, "attention_mask")) {
    IA_CHECK(m->shape() == ids.shape(), "blip: attention_mask ", shape_str(m->shape()), " != input_ids ",
             shape_str(ids.shape()));
    mask = m->to_i64();
  }
  return text_encoder_->run(ids.i64(), B, T, mask.defined() ? mask.i64() : nullptr, false, &image, nullptr);
}

nlohmann::json BlipModel::describe() const {
  return {{"template", "blip"},
          {"head", captioning_ ? "BlipForConditionalGeneration"
                   : retrieval_ ? "BlipForImageTextRetrieval"
                   : vqa_       ? "BlipForQuestionAnswering"
                                : "BlipModel"},
          {"vision", {{"hidden_size", p_.vision.hidden}, {"layers", p_.vision.layers}, {"heads", p_.vision.heads},
                      {"image_size", p_.vision.image_size}, {"patch_size", p_.vision.patch_size}}},
          {"text", {{"hidden_size", p_.text.hidden}, {"layers", p_.text.layers}, {"heads", p_.text.heads},
                    {"vocab_size", p_.text.vocab}, {"cross_attention", text_->has_cross_attention()}}},
          {"projection_dim", p_.projection_dim}};
}

std::vector<std::string> BlipModel::tasks() const {
  if (captioning_) return {"image-to-text"};
  if (retrieval_) return {"image-text-similarity"};
  if (vqa_) return {"visual-question-answering"};
  return {"zero-shot-image-classification", "image-feature-extraction"};
}

FamilyTemplate blip_template() {
  return {Family::VisionText, {"blip"},
          [](const ModelContext& ctx) -> std::unique_ptr<Model> { return std::make_unique<BlipModel>(ctx); }};
}

}  // namespace ia
