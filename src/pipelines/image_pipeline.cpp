#include "pipelines/image_pipeline.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "backends/cpu/kernels.h"
#include "core/error.h"
#include "pipelines/image_input.h"
#include "pipelines/pipeline_result.h"

namespace ia {

using json = nlohmann::json;

Tensor load_pixel_values(const ImageProcessor& proc, const std::vector<std::string>& images) {
  IA_CHECK(!images.empty(), "no image given: pass --input IMAGE (a PNG/JPEG path, '-' or base64)");
  std::vector<Image> decoded;
  for (const auto& spec : images) decoded.push_back(load_image_input(spec));
  return proc.preprocess_batch(decoded);
}

json classify_from_logits(const Tensor& logits, const HFConfig& config, int64_t top_k) {
  IA_CHECK(logits.rank() == 2 && logits.dim(1) > 0, "classification logits must be [images, labels], got ",
           shape_str(logits.shape()));
  const int64_t N = logits.dim(0), L = logits.dim(1);
  const json& raw = config.raw();
  auto label_of = [&](int64_t i) {
    const std::string key = std::to_string(i);
    if (raw.contains("id2label") && raw["id2label"].is_object() && raw["id2label"].contains(key) &&
        raw["id2label"][key].is_string())
      return raw["id2label"][key].get<std::string>();
    return "LABEL_" + key;
  };
  json all = json::array();
  for (int64_t n = 0; n < N; ++n) {
    std::vector<float> p(logits.f32() + n * L, logits.f32() + (n + 1) * L);
    cpu::softmax_inplace(p.data(), L);
    std::vector<int64_t> order(static_cast<size_t>(L));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return p[size_t(a)] > p[size_t(b)]; });
    json top = json::array();
    for (int64_t k = 0; k < std::min(top_k, L); ++k)
      top.push_back({{"label", label_of(order[size_t(k)])}, {"score", p[size_t(order[size_t(k)])]}});
    all.push_back(top);
  }
  return all;
}

std::string choose_task(const std::string& requested, const std::vector<std::string>& tasks, const std::string& who) {
  IA_CHECK(!tasks.empty(), who, ": the loaded model serves no task");
  if (requested.empty()) return tasks.front();
  if (std::find(tasks.begin(), tasks.end(), requested) != tasks.end()) return requested;
  std::string list;
  for (const auto& t : tasks) list += (list.empty() ? "" : ", ") + t;
  throw Unsupported(cat(who, ": task '", requested, "' is not available for this model (available: ", list, ")"));
}

ImagePipeline::ImagePipeline(const std::string& model_dir) {
  ctx_ = ModelContext::open(model_dir);
  model_ = load_model(model_dir);
  proc_ = ImageProcessor::from_dir(model_dir);
}

json ImagePipeline::run(const VisionRequest& req) {
  try {
    const std::string task = choose_task(req.task, model_->tasks(), model_->model_type());
    Tensor px = load_pixel_values(proc_, req.images);
    TensorMap out = model_->forward({{"pixel_values", px}});
    const int64_t N = px.dim(0);
    if (task == "image-classification") {
      auto it = out.find("logits");
      IA_CHECK(it != out.end(), model_->model_type(), ": the model has no classification head");
      json cls = classify_from_logits(it->second, ctx_.config, std::max<int64_t>(req.top_k, 1));
      json r = success_result("classifications", N == 1 ? cls[0] : cls);
      r["task"] = task;
      return r;
    }
    // image-feature-extraction
    json embs = json::array();
    std::string pooling;
    if (auto it = out.find("image_embeds"); it != out.end()) {
      pooling = "image_embeds";
      const Tensor& e = it->second;
      for (int64_t n = 0; n < N; ++n)
        embs.push_back(std::vector<float>(e.f32() + n * e.dim(1), e.f32() + (n + 1) * e.dim(1)));
    } else {
      auto lh = out.find("last_hidden_state");
      IA_CHECK(lh != out.end(), model_->model_type(), ": forward produced no last_hidden_state");
      pooling = "cls";
      const Tensor& h = lh->second;
      const int64_t T = h.dim(1), D = h.dim(2);
      for (int64_t n = 0; n < N; ++n) embs.push_back(std::vector<float>(h.f32() + n * T * D, h.f32() + n * T * D + D));
    }
    json r = success_result("embeddings", embs);
    r["task"] = task;
    r["pooling"] = pooling;
    r["dimensions"] = embs[0].size();
    return r;
  } catch (const std::exception& e) {
    return error_result(e.what());
  }
}

}  // namespace ia
