#include "composer/evidence.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "composer/bundled_model.h"
#include "composer/task_runner.h"
#include "templates/family.h"
#include "core/error.h"
#include "pipelines/audio_pipeline.h"
#include "pipelines/image_pipeline.h"
#include "pipelines/sampling.h"
#include "preprocess/audio.h"
#include "preprocess/audio_feature_extractor.h"
#include "preprocess/image_processor.h"
#include "registry/model_types.h"
#include "verify/verify.h"

namespace ia {

namespace fs = std::filesystem;
using json = nlohmann::json;

bool TypeEvidence::any_task_ok() const {
  return std::any_of(tasks.begin(), tasks.end(), [](const TaskEvidence& t) { return t.ok; });
}

namespace {

constexpr double kTol = 1e-4;

std::string join(const std::vector<int64_t>& v) {
  std::string s;
  for (auto x : v) {
    s += s.empty() ? "" : " ";
    s += std::to_string(x);
  }
  return s;
}

// The model's own forward pass on the probe ids (row 0, no padding). The same
// model's forward is checked against transformers by the fixture's verify cases.
TensorMap forward_on(Model& model, const std::vector<int64_t>& ids) {
  const int64_t T = int64_t(ids.size());
  TensorMap in;
  in["input_ids"] = Tensor::from_vector_i64(ids, {1, T});
  in["attention_mask"] = Tensor::from_vector_i64(std::vector<int64_t>(ids.size(), 1), {1, T});
  return model.forward(in);
}

std::vector<double> softmax_row(const float* x, int64_t n) {
  std::vector<double> p(static_cast<size_t>(n));
  double mx = *std::max_element(x, x + n), sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += (p[size_t(i)] = std::exp(double(x[i]) - mx));
  for (auto& v : p) v /= sum;
  return p;
}


}  // namespace

namespace {

bool generation_task(const std::string& task) {
  return task == "text-generation" || task == "text2text-generation" || task == "summarization" || task == "translation";
}

void check_finite(const json& v, const std::string& what) {
  IA_CHECK(v.is_array() && !v.empty(), what, " is not a non-empty list");
  for (const auto& x : v) IA_CHECK(x.is_number() && std::isfinite(x.get<double>()), what, " holds a non-finite value");
}

// Ranked [{label, score}]: scores in [0, 1], descending, labels non-empty.
void check_ranked(const json& list, const std::string& what) {
  IA_CHECK(list.is_array() && !list.empty(), what, " is not a non-empty list");
  double prev = 2;
  for (const auto& e : list) {
    const double s = e.at("score").get<double>();
    IA_CHECK(s >= 0 && s <= 1 + 1e-6 && s <= prev + 1e-9, what, ": scores are not probabilities in descending order");
    IA_CHECK(!e.at("label").get<std::string>().empty(), what, ": empty label");
    prev = s;
  }
}

// Image / audio / multimodal tasks: the result's structure, and where the model's
// own verified forward pass gives the answer, the numbers.
std::string check_media_task(TaskRunner& runner, const json& req, const json& res, const std::string& task) {
  if (task == "generative-qa" || task == "document-retrieval") {
    const bool qa = task == "generative-qa";
    const json& p = res.at(qa ? "rag_qa" : "rag_retrieval");
    const json& docs = p.at("retrieved_docs");
    const int64_t want = req.at("n_docs").get<int64_t>();
    IA_CHECK(int64_t(docs.size()) == want, docs.size(), " documents retrieved, ", want, " asked for");
    for (size_t i = 1; i < docs.size(); ++i)
      IA_CHECK(docs[i].at("score").get<double>() <= docs[i - 1].at("score").get<double>(),
               "retrieved documents are not ranked by score");
    if (qa) IA_CHECK(p.at("answer").is_string(), "no answer text");
    return cat(docs.size(), " documents ranked by inner product", qa ? ", answer generated over them" : "");
  }
  if (task == "image-classification") {
    const json& c = res.at("classifications");
    const json& first = c.at(0).is_array() ? c.at(0) : c;
    check_ranked(first, "classifications");
    ImageProcessor proc = ImageProcessor::from_dir(runner.model_dir());
    Tensor pixels = load_pixel_values(proc, {req.at("inputs").at(0).get<std::string>()});
    TensorMap out = runner.model().forward({{"pixel_values", pixels}});
    IA_CHECK(out.count("logits"), "forward produced no logits");
    const int64_t V = out["logits"].dim(-1);
    auto p = softmax_row(out["logits"].f32(), V);
    const double best = p[size_t(argmax(out["logits"].f32(), V))];
    const double got = first.at(0).at("score").get<double>();
    IA_CHECK(std::abs(got - best) <= kTol, "top score ", got, " differs from the forward pass's ", best);
    return cat("top label ", first.at(0).at("label").get<std::string>(), " score equals the forward pass's softmax");
  }
  if (task == "image-feature-extraction" || task == "feature-extraction") {
    const json& e = res.at("embeddings");
    check_finite(e.at(0), "embeddings[0]");
    const auto emb = e.at(0).get<std::vector<double>>();
    if (res.value("pooling", std::string()).find("L2-normalised") != std::string::npos) {
      double norm = 0;
      for (double x : emb) norm += x * x;
      IA_CHECK(std::abs(std::sqrt(norm) - 1) <= 1e-4, "embedding norm is ", std::sqrt(norm), ", not 1 (L2-normalised)");
      return cat(emb.size(), "-dim embedding, unit norm");
    }
    if (runner.model().family() == Family::Vision) {
      // The pipeline's embedding is the forward pass's image_embeds, else its CLS hidden state.
      ImageProcessor proc = ImageProcessor::from_dir(runner.model_dir());
      TensorMap out = runner.model().forward({{"pixel_values", load_pixel_values(proc, {req.at("inputs").at(0).get<std::string>()})}});
      const bool projected = out.count("image_embeds") > 0;
      IA_CHECK(projected || out.count("last_hidden_state"), "forward produced no last_hidden_state");
      const Tensor& h = projected ? out["image_embeds"] : out["last_hidden_state"];
      IA_CHECK(int64_t(emb.size()) == h.dim(-1), "embedding has ", emb.size(), " dimensions, the model ", h.dim(-1));
      double err = 0;
      for (size_t d = 0; d < emb.size(); ++d) err = std::max(err, std::abs(double(h.f32()[d]) - emb[d]));
      IA_CHECK(err <= kTol, "embedding differs from the forward pass by ", err);
      return cat(emb.size(), "-dim embedding equals the forward pass's ", projected ? "image_embeds" : "CLS state",
                 ", max_abs_err=", err);
    }
    return cat(emb.size(), "-dim embedding, finite");
  }
  if (task == "zero-shot-image-classification" || task == "image-text-similarity") {
    const json& s = res.at("similarity");
    const size_t n = req.at("candidate_labels").size();
    IA_CHECK(s.at("labels").size() == n && s.at("scores").size() == n, "similarity: expected ", n, " labels and scores");
    double sum = 0, best = -1;
    for (const auto& x : s["scores"]) sum += x.get<double>(), best = std::max(best, x.get<double>());
    IA_CHECK(std::abs(sum - 1) <= 1e-4, "similarity scores sum to ", sum, ", not 1");
    const int64_t hi = s.at("highest_idx").get<int64_t>();
    IA_CHECK(hi >= 0 && size_t(hi) < n && s["scores"][size_t(hi)].get<double>() == best, "highest_idx is not the best score");
    return cat(n, " candidates, scores a softmax, best at index ", hi);
  }
  if (task == "mask-generation") {
    const json& o = res.at("segmentation_output");
    IA_CHECK(o.at("scores").size() == 3 && o.at("masks").size() == 3, "expected 3 candidate masks with scores");
    check_finite(o["scores"], "scores");
    return "3 candidate masks with finite IoU scores";
  }
  if (task == "image-to-text" || task == "visual-question-answering") {
    const json& c = res.contains("caption") ? res["caption"] : res.at("visual_qa");
    IA_CHECK(c.is_array() && !c.empty(), "no caption / answer list");
    const json& first = c[0];
    IA_CHECK((first.contains("generated_text") && first["generated_text"].is_string()) ||
                 (first.contains("answer") && first["answer"].is_string()),
             "caption entry holds no text");
    return "caption text produced";
  }
  if (task == "image-text-to-text") {
    IA_CHECK(res.at("generated_text").is_string(), "generated_text is not a string");
    return "generated text for the image and prompt";
  }
  if (task == "automatic-speech-recognition") {
    const json& text = res.at("transcription").at("text");
    IA_CHECK(text.is_string(), "transcription.text is not a string");
    if (runner.model().model_type() != "wav2vec2") return "transcription text produced";
    // CTC: the transcription is the greedy decoding of the verified forward pass's logits.
    const auto fe = AudioFeatureExtractor::from_dir(runner.model_dir());
    TensorMap out = runner.model().forward(fe.extract(decode_wav_file(req.at("inputs").at(0).get<std::string>())));
    IA_CHECK(out.count("logits"), "forward produced no logits");
    const Tensor& lg = out["logits"];
    const int64_t T = lg.dim(1), V = lg.dim(2);
    std::vector<int64_t> frames;
    for (int64_t t = 0; t < T; ++t) frames.push_back(argmax(lg.f32() + t * V, V));
    const std::string want = CtcDecoder::from_dir(runner.model_dir(), V).decode(frames);
    IA_CHECK(text.get<std::string>() == want, "transcription '", text.get<std::string>(), "' differs from the CTC decoding '",
             want, "' of the forward pass");
    return cat("transcription equals the CTC decoding of the forward pass (", T, " frames)");
  }
  if (task == "audio-classification") {
    check_ranked(res.at("classification").at("results"), "classification.results");
    return "ranked labels with probabilities";
  }
  fail("no check for task '", task, "'");
}

}  // namespace

TaskEvidence check_task(TaskRunner& runner, const BundledModel& m, const std::string& task) {
  TaskEvidence ev;
  ev.task = task;
  const bool generation = generation_task(task);
  const json req = probe_request(m, runner.model_dir(), task);
  json res = runner.run(req);
  if (!res.value("success", false)) {
    ev.detail = res.value("error", std::string("failed"));
    return ev;
  }
  const Family family = runner.model().family();
  const bool text_family = family == Family::EncoderOnly || family == Family::DecoderOnly ||
                           family == Family::EncoderDecoder || family == Family::MixtureOfExperts ||
                           family == Family::StateSpace;
  try {
    if (generation) {
      auto got = generated_token_ids(res);
      if (m.prompt_ids.empty() && !text_family) {
        // LLaVA text-only: the fixture's generate case needs the image.
        ev.checked_against = "structure";
        IA_CHECK(int64_t(got.size()) <= req.value("max_new_tokens", int64_t(1) << 30), "more tokens than asked for");
        ev.detail = cat(got.size(), " tokens generated (no text-only reference to compare with)");
      } else {
        ev.checked_against = "transformers reference";
        IA_CHECK(!m.prompt_ids.empty(), "the fixture has no generate case to compare with");
        IA_CHECK(got == m.expected_new_ids, "generated ids [", join(got), "] differ from transformers' greedy [",
                 join(m.expected_new_ids), "]");
        ev.detail = cat(got.size(), " generated ids equal transformers' greedy continuation");
      }
    } else if (!text_family) {
      ev.detail = check_media_task(runner, req, res, task);
      ev.checked_against = ev.detail.find("forward pass") != std::string::npos ? "reference-verified forward pass" : "structure";
    } else if (task == "feature-extraction") {
      ev.checked_against = "reference-verified forward pass";
      TensorMap out = forward_on(runner.model(), m.forward_ids);
      IA_CHECK(out.count("last_hidden_state"), "forward produced no last_hidden_state");
      const Tensor& h = out["last_hidden_state"];
      const int64_t T = h.dim(1), D = h.dim(2);
      auto emb = res.at("embeddings").at(0).get<std::vector<double>>();
      IA_CHECK(int64_t(emb.size()) == D, "embedding has ", emb.size(), " dimensions, hidden size is ", D);
      double err = 0;
      for (int64_t d = 0; d < D; ++d) {
        double mean = 0;
        for (int64_t t = 0; t < T; ++t) mean += h.f32()[t * D + d];
        err = std::max(err, std::abs(mean / double(T) - emb[size_t(d)]));
      }
      IA_CHECK(err <= kTol, "mean-pooled embedding differs by ", err);
      ev.detail = cat(D, "-dim mean-pooled embedding, max_abs_err=", err);
    } else if (task == "fill-mask" || task == "text-classification") {
      ev.checked_against = "reference-verified forward pass";
      TensorMap out = forward_on(runner.model(), m.forward_ids);
      IA_CHECK(out.count("logits"), "forward produced no logits");
      const Tensor& lg = out["logits"];
      const int64_t V = lg.dim(-1);
      if (task == "text-classification") {
        auto p = softmax_row(lg.f32(), V);
        int64_t best = argmax(lg.f32(), V);
        double score = res.at("classification").at("top_score").get<double>();
        IA_CHECK(std::abs(score - p[size_t(best)]) <= kTol, "top score ", score, " vs ", p[size_t(best)]);
        ev.detail = cat("top label ", res["classification"]["top_label"].get<std::string>(), " score ", score);
      } else {
        const json& preds = res.at("predictions");
        size_t checked = 0;
        for (const auto& pred : preds) {
          int64_t pos = pred.at("position").get<int64_t>();
          const float* row = lg.f32() + pos * V;
          auto p = softmax_row(row, V);
          int64_t best = argmax(row, V);
          const json& top = pred.at("candidates").at(0);
          IA_CHECK(top.at("token").get<int64_t>() == best, "position ", pos, ": top token ", top["token"], " vs argmax ", best);
          IA_CHECK(std::abs(top.at("score").get<double>() - p[size_t(best)]) <= kTol, "position ", pos, ": score differs");
          ++checked;
        }
        IA_CHECK(checked > 0, "no [MASK] position predicted");
        ev.detail = cat(checked, " masked position(s): top token and score match the logits");
      }
    } else {
      ev.detail = "ran, but this task's output has no check here";
      return ev;
    }
    ev.ok = true;
  } catch (const std::exception& e) {
    ev.detail = e.what();
  }
  return ev;
}

TypeEvidence gather_evidence(const std::string& models_root, const std::string& model_type, bool run_pipelines) {
  TypeEvidence ev;
  ev.model_type = model_type;
  if (const ModelTypeInfo* info = find_model_type(model_type)) ev.family = info->family;
  ev.implemented = find_template(model_type) != nullptr;
  ev.pipeline = pipeline_name_for(model_type);
  ev.pipeline_implemented = pipeline_implemented(ev.pipeline);
  ev.fixtures = bundled_fixture_dirs(models_root, model_type);
  if (!ev.implemented) return ev;
  VerifyOptions opts;
  std::string best;
  size_t best_tasks = 0;
  for (const auto& dir : ev.fixtures) {
    for (const auto& r : verify_model_fixture(dir, fs::relative(dir, models_root).string(), opts)) {
      if (r.status == CaseStatus::Pass) ++ev.cases_pass;
      else if (r.status == CaseStatus::Fail) ++ev.cases_fail;
      else ++ev.cases_unsupported;
      if (r.status != CaseStatus::Pass && ev.first_failure.empty())
        ev.first_failure = cat(r.fixture, " ", r.case_name, ": ", r.detail);
    }
    try {
      size_t n = load_model(dir)->tasks().size();
      if (best.empty() || n > best_tasks) best = dir, best_tasks = n;
    } catch (const std::exception&) {
    }
  }
  if (!run_pipelines || best.empty()) return ev;
  if (!ev.pipeline_implemented) {
    ev.pipeline_error = cat("the '", ev.pipeline, "' pipeline template has no implementation in the task dispatcher (pipelines/task_dispatch.cpp) of this build");
    return ev;
  }
  fs::path tmp = fs::temp_directory_path() / cat("ia_evidence_", ::getpid(), "_", model_type);
  try {
    BundledModel m = read_bundled_model(best);
    fs::remove_all(tmp);
    write_runnable_copy(m, tmp.string());
    TaskRunner runner(tmp.string());
    for (const auto& task : runner.model().tasks()) ev.tasks.push_back(check_task(runner, m, task));
  } catch (const std::exception& e) {
    ev.pipeline_error = e.what();
  }
  std::error_code ec;
  fs::remove_all(tmp, ec);
  return ev;
}

}  // namespace ia
