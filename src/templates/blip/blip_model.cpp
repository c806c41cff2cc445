#include "templates/blip/blip_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "parts/weights.h"

namespace ia {

BlipModel::BlipModel(const ModelContext& ctx) : p_(BlipParams::from_config(ctx.config)) {
  Weights root(ctx.checkpoint);
  const std::string& arch = ctx.architecture;
  if (arch == "BlipForConditionalGeneration" || (arch.empty() && root.has_module("text_decoder"))) {
    captioning_ = true;
  } else if (arch == "BlipModel" || (arch.empty() && root.has_module("text_model"))) {
    captioning_ = false;
  } else {
    throw Unsupported(cat(ctx.dir, "/config.json: blip architecture '", arch,
                          "' is not supported (BlipModel, BlipForConditionalGeneration are)"));
  }
  vision_ = std::make_unique<BlipVisionModel>(p_.vision, root.pp("vision_model"));
  if (captioning_) {
    Weights td = root.pp("text_decoder");
    text_ = std::make_unique<BlipTextModel>(p_.text, td.pp("bert"), false);
    IA_CHECK(text_->has_cross_attention(), ctx.dir, ": text_decoder has no crossattention weights");
    lm_head_ = std::make_unique<BlipLMHead>(p_.text, td.pp("cls").pp("predictions"), text_->word_embeddings());
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

void l2_normalize_rows(Tensor& x) {
  const int64_t rows = x.dim(0), n = x.dim(1);
  for (int64_t r = 0; r < rows; ++r) {
    float* p = x.f32() + r * n;
    float ss = 0.f;
    for (int64_t i = 0; i < n; ++i) ss += p[i] * p[i];
    const float norm = std::sqrt(ss);
    for (int64_t i = 0; i < n; ++i) p[i] /= norm;
  }
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
  if (!captioning_) throw Unsupported("blip: BlipModel has no text decoder to generate with");
  const Tensor& pixels = require_input(inputs, "pixel_values", "blip");
  Tensor image = vision_->forward(pixels);
  const int64_t B = image.dim(0), V = p_.text.vocab;
  const BlipTextParams& tp = p_.text;
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
  const int64_t max_new = std::max<int64_t>(0, opts.max_new_tokens);
  BlipTextModel::Cache cache;
  text_->init_cache(cache, B, P + max_new, image);
  Tensor logits = Tensor::f32({B, V});
  std::vector<int64_t> seq = prompt;  // grows per step; row-major [B, len]
  std::vector<std::vector<int64_t>> rows(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) rows[size_t(b)].assign(prompt.begin() + b * P, prompt.begin() + (b + 1) * P);
  std::vector<float> step_logits;
  std::vector<char> done(size_t(B), 0);
  Tensor h = text_->run(prompt.data(), B, P, mask.data(), true, nullptr, &cache);
  std::vector<float> last(size_t(B * tp.hidden));
  auto take_last = [&](const Tensor& hidden, int64_t T) {
    for (int64_t b = 0; b < B; ++b)
      std::memcpy(last.data() + b * tp.hidden, hidden.f32() + (b * T + T - 1) * tp.hidden, size_t(tp.hidden) * 4);
  };
  take_last(h, P);
  int64_t steps = 0;
  std::vector<int64_t> next(static_cast<size_t>(B)), ones(static_cast<size_t>(B), 1);
  for (int64_t s = 0; s < max_new; ++s) {
    lm_head_->forward(last.data(), B, logits.f32());
    if (opts.return_step_logits) step_logits.insert(step_logits.end(), logits.f32(), logits.f32() + B * V);
    for (int64_t b = 0; b < B; ++b) {
      const float* lb = logits.f32() + b * V;
      int64_t best = int64_t(std::max_element(lb, lb + V) - lb);
      if (done[size_t(b)]) best = tp.pad_token_id;  // finished rows are padded
      next[size_t(b)] = best;
      rows[size_t(b)].push_back(best);
      if (opts.eos_stops && best == eos) done[size_t(b)] = 1;
    }
    ++steps;
    if (opts.eos_stops && std::all_of(done.begin(), done.end(), [](char d) { return d != 0; })) break;
    if (s + 1 == max_new) break;
    h = text_->run(next.data(), B, 1, ones.data(), true, nullptr, &cache);
    take_last(h, 1);
  }
  const int64_t total = P + steps;
  std::vector<int64_t> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  TensorMap out;
  out["sequences"] = Tensor::from_vector_i64(flat, {B, total});
  if (opts.return_step_logits) {
    // step_logits were gathered step-major [steps, B, V]; reorder to [B, steps, V].
    Tensor sl = Tensor::f32({B, steps, V});
    for (int64_t s = 0; s < steps; ++s)
      for (int64_t b = 0; b < B; ++b)
        std::memcpy(sl.f32() + (b * steps + s) * V, step_logits.data() + (s * B + b) * V, size_t(V) * 4);
    out["step_logits"] = sl;
  }
  return out;
}

nlohmann::json BlipModel::describe() const {
  return {{"template", "blip"},
          {"head", captioning_ ? "BlipForConditionalGeneration" : "BlipModel"},
          {"vision", {{"hidden_size", p_.vision.hidden}, {"layers", p_.vision.layers}, {"heads", p_.vision.heads},
                      {"image_size", p_.vision.image_size}, {"patch_size", p_.vision.patch_size}}},
          {"text", {{"hidden_size", p_.text.hidden}, {"layers", p_.text.layers}, {"heads", p_.text.heads},
                    {"vocab_size", p_.text.vocab}, {"cross_attention", text_->has_cross_attention()}}},
          {"projection_dim", p_.projection_dim}};
}

std::vector<std::string> BlipModel::tasks() const {
  if (captioning_) return {"image-to-text"};
  return {"zero-shot-image-classification", "image-feature-extraction"};
}

FamilyTemplate blip_template() {
  return {Family::VisionText, {"blip"},
          [](const ModelContext& ctx) -> std::unique_ptr<Model> { return std::make_unique<BlipModel>(ctx); }};
}

}  // namespace ia
