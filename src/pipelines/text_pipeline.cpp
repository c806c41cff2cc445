#include "pipelines/text_pipeline.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "core/error.h"
#include "pipelines/pipeline_result.h"

namespace ia {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {
Tokenizer load_tokenizer(const std::string& dir) {
  IA_CHECK(fs::exists(fs::path(dir) / "tokenizer.json"), dir,
           ": no tokenizer.json (text tasks need the model's tokenizer next to config.json)");
  return Tokenizer::from_dir(dir);
}

std::vector<float> softmax_of(const float* x, int64_t n) {
  std::vector<float> p(x, x + n);
  float mx = *std::max_element(p.begin(), p.end());
  double sum = 0;
  for (auto& v : p) sum += (v = std::exp(v - mx));
  for (auto& v : p) v = float(v / sum);
  return p;
}

std::vector<int64_t> top_indices(const std::vector<float>& p, int64_t k) {
  std::vector<int64_t> idx(p.size());
  std::iota(idx.begin(), idx.end(), 0);
  k = std::min<int64_t>(k, int64_t(idx.size()));
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int64_t a, int64_t b) { return p[size_t(a)] > p[size_t(b)]; });
  idx.resize(size_t(k));
  return idx;
}
}  // namespace

TextPipeline::TextPipeline(const std::string& dir)
    : ctx_(ModelContext::open(dir)), model_(load_model(dir)), tok_(load_tokenizer(dir)) {}

TextPipeline::TextPipeline(std::unique_ptr<Model> model, Tokenizer tok, ModelContext ctx)
    : ctx_(std::move(ctx)), model_(std::move(model)), tok_(std::move(tok)) {}

GenerationSettings TextPipeline::generation_defaults() const {
  return ia::generation_defaults(ctx_.generation_config, ctx_.config);
}

json TextPipeline::run(const TextRequest& req_in) {
  TextRequest req = req_in;
  try {
    std::vector<std::string> tasks = model_->tasks();
    if (req.task.empty()) {
      IA_CHECK(!tasks.empty(), model_->model_type(), ": the model's heads allow no text task");
      req.task = tasks.front();
    }
    IA_CHECK(std::find(tasks.begin(), tasks.end(), req.task) != tasks.end(), "task '", req.task, "' is not served by ",
             ctx_.architecture.empty() ? model_->model_type() : ctx_.architecture, " (its heads allow: ", json(tasks).dump(), ")");
    IA_CHECK(!req.inputs.empty(), "no input text given");
    if (req.task == "text-generation") return generate(req);
    if (req.task == "feature-extraction") return embed(req);
    if (req.task == "fill-mask") return fill_mask(req);
    if (req.task == "text-classification") return classify(req);
    throw Unsupported(cat("task '", req.task, "' has no text pipeline handler yet"));
  } catch (const std::exception& e) {
    return error_result(e.what());
  }
}

json TextPipeline::generate(const TextRequest& req) {
  auto* dec = dynamic_cast<StepDecoder*>(model_.get());
  IA_CHECK(dec != nullptr, model_->model_type(), ": this model cannot decode step by step");
  json texts = json::array(), details = json::array();
  for (size_t i = 0; i < req.inputs.size(); ++i) {
    GenerationOutput g = generate_text(*dec, tok_, req.inputs[i], req.generation, i == 0 ? req.on_text : nullptr);
    texts.push_back(g.text);
    size_t n = g.new_ids.size();
    details.push_back({{"prompt_tokens", g.prompt_ids.size()},
                       {"new_tokens", n},
                       {"token_ids", g.new_ids},
                       {"finish_reason", g.finish_reason},
                       {"prefill_tokens_per_second", g.prefill_seconds > 0 ? double(g.prompt_ids.size()) / g.prefill_seconds : 0.0},
                       {"decode_tokens_per_second", g.decode_seconds > 0 && n > 1 ? double(n - 1) / g.decode_seconds : 0.0}});
  }
  json r = success_result("generated_text", texts[0]);
  r["all_texts"] = texts;
  r["generation"] = details;
  const auto& sp = req.generation.sampling;
  r["parameters"] = {{"max_new_tokens", req.generation.max_new_tokens}, {"do_sample", sp.do_sample},
                     {"temperature", sp.temperature}, {"top_k", sp.top_k}, {"top_p", sp.top_p}, {"min_p", sp.min_p},
                     {"repetition_penalty", sp.repetition_penalty}, {"seed", sp.seed},
                     {"stop", req.generation.stop_strings}};
  return r;
}

TensorMap TextPipeline::encode_batch(const std::vector<std::string>& texts) const {
  std::vector<Encoding> encs;
  size_t T = 0;
  for (const auto& t : texts) {
    encs.push_back(tok_.encode(t, true));
    T = std::max(T, encs.back().ids.size());
  }
  IA_CHECK(T > 0, "inputs encode to no tokens");
  const int64_t B = int64_t(texts.size());
  Tensor ids = Tensor::zeros(DType::I64, {B, int64_t(T)});
  Tensor mask = Tensor::zeros(DType::I64, {B, int64_t(T)});
  int64_t pad = tok_.pad_token.empty() ? 0 : int64_t(tok_.token_to_id(tok_.pad_token).value_or(0));
  for (int64_t b = 0; b < B; ++b)
    for (size_t t = 0; t < T; ++t) {
      bool real = t < encs[size_t(b)].ids.size();
      ids.i64()[b * int64_t(T) + int64_t(t)] = real ? int64_t(encs[size_t(b)].ids[t]) : pad;
      mask.i64()[b * int64_t(T) + int64_t(t)] = real ? 1 : 0;
    }
  return {{"input_ids", ids}, {"attention_mask", mask}};
}

json TextPipeline::embed(const TextRequest& req) {
  TensorMap in = encode_batch(req.inputs);
  TensorMap out = model_->forward(in);
  auto it = out.find("last_hidden_state");
  IA_CHECK(it != out.end(), model_->model_type(), ": forward produced no last_hidden_state");
  const Tensor& h = it->second;
  const int64_t B = h.dim(0), T = h.dim(1), D = h.dim(2);
  json embs = json::array();
  const int64_t* m = in["attention_mask"].i64();
  for (int64_t b = 0; b < B; ++b) {
    std::vector<double> acc(size_t(D), 0.0);
    int64_t n = 0;
    for (int64_t t = 0; t < T; ++t) {
      if (!m[b * T + t]) continue;
      ++n;
      for (int64_t d = 0; d < D; ++d) acc[size_t(d)] += h.f32()[(b * T + t) * D + d];
    }
    std::vector<float> e(static_cast<size_t>(D));
    for (int64_t d = 0; d < D; ++d) e[size_t(d)] = float(acc[size_t(d)] / double(std::max<int64_t>(n, 1)));
    embs.push_back(e);
  }
  json r = success_result("embeddings", embs);
  r["dimensions"] = D;
  r["pooling"] = "mean over attention_mask";
  return r;
}

json TextPipeline::fill_mask(const TextRequest& req) {
  std::string mask_token;
  for (const char* cand : {"[MASK]", "<mask>"})
    if (tok_.token_to_id(cand)) {
      mask_token = cand;
      break;
    }
  IA_CHECK(!mask_token.empty(), "fill-mask: the tokenizer has no [MASK] or <mask> token");
  const int64_t mask_id = int64_t(*tok_.token_to_id(mask_token));
  TensorMap in = encode_batch(req.inputs);
  TensorMap out = model_->forward(in);
  IA_CHECK(out.count("logits"), model_->model_type(), ": forward produced no logits");
  const Tensor& logits = out["logits"];
  const int64_t B = logits.dim(0), T = logits.dim(1), V = logits.dim(2);
  json all = json::array();
  for (int64_t b = 0; b < B; ++b) {
    json preds = json::array();
    bool found = false;
    for (int64_t t = 0; t < T; ++t) {
      if (in["input_ids"].i64()[b * T + t] != mask_id) continue;
      found = true;
      auto p = softmax_of(logits.f32() + (b * T + t) * V, V);
      json cands = json::array();
      for (int64_t id : top_indices(p, req.top_k))
        cands.push_back({{"token", id}, {"token_str", tok_.decode({uint32_t(id)}, false)}, {"score", p[size_t(id)]}});
      preds.push_back({{"position", t}, {"candidates", cands}});
    }
    IA_CHECK(found, "fill-mask: input ", b, " contains no ", mask_token, " token");
    all.push_back(preds);
  }
  json r = success_result("predictions", req.inputs.size() == 1 ? all[0] : all);
  r["mask_token"] = mask_token;
  return r;
}

std::string TextPipeline::label_of(int64_t i) const {
  const json& raw = ctx_.config.raw();
  if (raw.contains("id2label") && raw["id2label"].is_object()) {
    auto key = std::to_string(i);
    if (raw["id2label"].contains(key) && raw["id2label"][key].is_string()) return raw["id2label"][key].get<std::string>();
  }
  return "LABEL_" + std::to_string(i);
}

json TextPipeline::classify(const TextRequest& req) {
  TensorMap in = encode_batch(req.inputs);
  TensorMap out = model_->forward(in);
  IA_CHECK(out.count("logits"), model_->model_type(), ": forward produced no logits");
  const Tensor& logits = out["logits"];
  const int64_t B = logits.dim(0), L = logits.dim(-1);
  const bool multi = ctx_.config.get_string("problem_type", "") == "multi_label_classification";
  json all = json::array();
  for (int64_t b = 0; b < B; ++b) {
    const float* x = logits.f32() + b * L;
    std::vector<float> p(static_cast<size_t>(L));
    if (multi) for (int64_t i = 0; i < L; ++i) p[size_t(i)] = 1.f / (1.f + std::exp(-x[i]));
    else p = softmax_of(x, L);
    json res = json::array();
    for (int64_t i : top_indices(p, req.top_k)) res.push_back({{"label", label_of(i)}, {"score", p[size_t(i)]}});
    all.push_back({{"results", res}, {"top_label", res[0]["label"]}, {"top_score", res[0]["score"]}});
  }
  return success_result("classification", req.inputs.size() == 1 ? all[0] : all);
}

}  // namespace ia
