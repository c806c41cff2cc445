#include "pipelines/vision_text_pipeline.h"

#include <algorithm>
#include <cmath>

#include "backends/cpu/kernels.h"
#include "core/error.h"
#include "pipelines/pipeline_result.h"

namespace ia {

using json = nlohmann::json;

VisionTextPipeline::VisionTextPipeline(const std::string& model_dir) : dir_(model_dir) {
  ctx_ = ModelContext::open(model_dir);
  model_ = load_model(model_dir);
  proc_ = ImageProcessor::from_dir(model_dir);
}

TensorMap VisionTextPipeline::encode_texts(const std::vector<std::string>& texts) const {
  IA_CHECK(!texts.empty(), "no texts: give --candidate-labels a,b,c");
  Tokenizer tok = Tokenizer::from_dir(dir_);
  std::vector<Encoding> encs;
  size_t T = 0;
  for (const auto& t : texts) {
    encs.push_back(tok.encode(t, true));
    T = std::max(T, encs.back().ids.size());
  }
  IA_CHECK(T > 0, "the texts encode to no tokens");
  const int64_t B = int64_t(texts.size());
  // CLIPTokenizer pads with its pad token (openai/clip: <|endoftext|>).
  int64_t pad = 0;
  if (!tok.pad_token.empty()) pad = int64_t(tok.token_to_id(tok.pad_token).value_or(0));
  else if (tok.padding()) pad = int64_t(tok.padding()->pad_id);
  Tensor ids = Tensor::zeros(DType::I64, {B, int64_t(T)});
  Tensor mask = Tensor::zeros(DType::I64, {B, int64_t(T)});
  for (int64_t b = 0; b < B; ++b)
    for (size_t t = 0; t < T; ++t) {
      const bool real = t < encs[size_t(b)].ids.size();
      ids.i64()[b * int64_t(T) + int64_t(t)] = real ? int64_t(encs[size_t(b)].ids[t]) : pad;
      mask.i64()[b * int64_t(T) + int64_t(t)] = real ? 1 : 0;
    }
  return {{"input_ids", ids}, {"attention_mask", mask}};
}

json VisionTextPipeline::similarity(const VisionRequest& req, bool zero_shot) {
  std::vector<std::string> texts;
  for (const auto& label : req.candidate_labels) {
    if (!zero_shot) {
      texts.push_back(label);
      continue;
    }
    std::string t = req.hypothesis_template;
    const size_t at = t.find("{}");
    IA_CHECK(at != std::string::npos, "hypothesis template '", t, "' has no {} for the label");
    texts.push_back(t.replace(at, 2, label));
  }
  TensorMap in = encode_texts(texts);
  in["pixel_values"] = load_pixel_values(proc_, req.images);
  TensorMap out = model_->forward(in);
  const Tensor& lpi = out.at("logits_per_image");  // [N images, L texts]
  const Tensor& te = out.at("text_embeds");
  const Tensor& ie = out.at("image_embeds");
  const int64_t N = lpi.dim(0), L = lpi.dim(1), P = te.dim(1);
  json per_image = json::array();
  for (int64_t n = 0; n < N; ++n) {
    std::vector<float> logits(lpi.f32() + n * L, lpi.f32() + (n + 1) * L);
    std::vector<float> scores = logits;
    cpu::softmax_inplace(scores.data(), L);
    const int64_t best = int64_t(std::max_element(scores.begin(), scores.end()) - scores.begin());
    json s = {{"labels", req.candidate_labels}, {"scores", scores},       {"highest_idx", best},
              {"highest_match", req.candidate_labels[size_t(best)]},      {"logits_per_image", logits}};
    if (zero_shot) s["texts"] = texts;
    if (!zero_shot) {
      std::vector<float> cosine(static_cast<size_t>(L));
      for (int64_t l = 0; l < L; ++l) cosine[size_t(l)] = cpu::dot(ie.f32() + n * P, te.f32() + l * P, P);
      s["cosine_similarity"] = cosine;
    }
    per_image.push_back(s);
  }
  return N == 1 ? per_image[0] : per_image;
}

json VisionTextPipeline::run(const VisionRequest& req) {
  try {
    const std::string task = choose_task(req.task, model_->tasks(), model_->model_type());
    json r;
    if (task == "zero-shot-image-classification" || task == "image-text-similarity") {
      r = success_result("similarity", similarity(req, task == "zero-shot-image-classification"));
    } else if (task == "image-classification") {
      TensorMap out = model_->forward({{"pixel_values", load_pixel_values(proc_, req.images)}});
      json cls = classify_from_logits(out.at("logits"), ctx_.config, std::max<int64_t>(req.top_k, 1));
      r = success_result("classifications", cls.size() == 1 ? cls[0] : cls);
    } else if (task == "image-feature-extraction" || task == "feature-extraction") {
      const bool image = task == "image-feature-extraction";
      TensorMap in = image ? TensorMap{{"pixel_values", load_pixel_values(proc_, req.images)}}
                           : encode_texts(req.candidate_labels);
      // BlipModel.forward needs a text; image_embeds do not depend on it (one token).
      if (image && model_->model_type() == "blip") in["input_ids"] = Tensor::from_vector_i64({0}, {1, 1});
      TensorMap out = model_->forward(in);
      const Tensor& e = out.at(image ? "image_embeds" : "text_embeds");
      json embs = json::array();
      for (int64_t n = 0; n < e.dim(0); ++n)
        embs.push_back(std::vector<float>(e.f32() + n * e.dim(1), e.f32() + (n + 1) * e.dim(1)));
      r = success_result("embeddings", embs);
      r["pooling"] = image ? "image_embeds (L2-normalised)" : "text_embeds (L2-normalised)";
      r["dimensions"] = e.dim(1);
    } else {
      throw Unsupported(cat(model_->model_type(), ": task '", task, "' is not served by the vision-text pipeline"));
    }
    r["task"] = task;
    return r;
  } catch (const std::exception& e) {
    return error_result(e.what());
  }
}

}  // namespace ia
