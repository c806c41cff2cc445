#include "pipelines/moe_pipeline.h"

#include "core/error.h"
#include "pipelines/moe_expert_info.h"
#include "pipelines/pipeline_result.h"
#include "pipelines/text2text_pipeline.h"
#include "templates/moe/moe_model.h"
#include "templates/moe/switch_model.h"

namespace ia {

using json = nlohmann::json;

namespace {

std::vector<int64_t> ids_of(const Tokenizer& tok, const std::string& text, bool special) {
  std::vector<int64_t> r;
  for (auto id : tok.encode(text, special).ids) r.push_back(int64_t(id));
  return r;
}

// Positions a decoder routes while generating: the prompt, then every generated
// token but the last (it is never fed back). Position p produced new[p - P + 1].
RoutedSequence generation_sequence(const std::string& stack, const std::vector<int64_t>& prompt,
                                   const std::vector<int64_t>& produced) {
  RoutedSequence s;
  s.stack = stack;
  s.input_ids = prompt;
  if (!produced.empty()) s.input_ids.insert(s.input_ids.end(), produced.begin(), produced.end() - 1);
  const int64_t P = int64_t(prompt.size());
  s.next_ids.assign(s.input_ids.size(), -1);
  for (size_t j = 0; j < produced.size() && P - 1 + int64_t(j) < int64_t(s.next_ids.size()); ++j)
    s.next_ids[size_t(P - 1) + j] = produced[j];
  s.prompt_len = {P};
  return s;
}

}  // namespace

MoePipeline::MoePipeline(const std::string& dir) : text_(dir) {
  moe_ = dynamic_cast<MoeModel*>(&text_.model());
  switch_ = dynamic_cast<SwitchModel*>(&text_.model());
  IA_CHECK(moe_ || switch_, dir, ": the moe pipeline needs a mixture-of-experts model (this is ",
           text_.model().model_type(), ")");
}

json MoePipeline::run(const TextRequest& req_in, const MoeOptions& opts) {
  try {
    TextRequest req = req_in;
    std::vector<std::string> tasks = text_.model().tasks();
    if (req.task.empty()) req.task = tasks.front();
    IA_CHECK(!req.inputs.empty(), "no input text given");
    IA_CHECK(opts.experts_per_token >= 0, "--experts-per-token must be positive");
    if (moe_) {
      moe_->set_experts_per_token(opts.experts_per_token);  // 0 restores the config's value
    } else {
      IA_CHECK(opts.experts_per_token == 0 || opts.experts_per_token == 1, switch_->model_type(),
               " routes every token to exactly one expert (top-1 router); --experts-per-token ",
               opts.experts_per_token, " is not possible");
    }
    json out, infos = json::array(), texts = json::array(), details = json::array();
    for (size_t i = 0; i < req.inputs.size(); ++i) {
      TextRequest one = req;
      one.inputs = {req.inputs[i]};
      if (i > 0) one.on_text = nullptr;
      json r = run_one(one);
      if (!r.value("success", false)) return r;
      infos.push_back(r["expert_info"]);
      if (i == 0) out = r;
      if (r.contains("moe_generation")) texts.push_back(r["moe_generation"]);
      if (r.contains("generation")) details.push_back(r["generation"][0]);
    }
    if (req.inputs.size() > 1) {
      out["expert_info"] = infos;
      if (!texts.empty()) out["all_texts"] = texts;
      if (!details.empty()) out["generation"] = details;
    }
    return out;
  } catch (const std::exception& e) {
    return error_result(e.what());
  }
}

json MoePipeline::run_one(const TextRequest& req) {
  const Tokenizer& tok = text_.tokenizer();
  std::vector<MoeLayerRef> layers;
  std::vector<RoutedSequence> seqs;
  ExpertInfoSettings s;
  json r;
  if (moe_) {
    moe_->start_recording();
    s.num_experts = moe_->num_experts();
    s.experts_per_token = moe_->experts_per_token();
    s.experts_per_token_config = moe_->params().moe.top_k;
    if (req.task == "text-generation") {
      r = text_.run(req);
      if (!r.value("success", false)) return r;
      seqs.push_back(generation_sequence("decoder", ids_of(tok, req.inputs[0], req.generation.add_special_tokens),
                                         r["generation"][0]["token_ids"].get<std::vector<int64_t>>()));
      r["moe_generation"] = r["generated_text"];
      r.erase("generated_text");
      r.erase("all_texts");
    } else {
      r = text_.run(req);
      if (!r.value("success", false)) return r;
      const std::string from = req.task == "feature-extraction" ? "embeddings" : "classification";
      r[req.task == "feature-extraction" ? "moe_output" : "moe_classification"] = r[from];
      r.erase(from);
      seqs.push_back({"decoder", ids_of(tok, req.inputs[0], true), {}, {}});
    }
    for (int64_t l : moe_->moe_layers()) layers.push_back({l, "model.layers." + std::to_string(l), 0, -1});
  } else {
    IA_CHECK(req.task == "text2text-generation" || req.task == "summarization" || req.task == "translation",
             "task '", req.task, "' is not served by ", switch_->model_type(), " (text2text-generation)");
    switch_->start_recording();
    s.num_experts = switch_->router().n_experts;
    s.experts_per_token = s.experts_per_token_config = 1;
    Text2TextSettings t2s;  // greedy / sampling with the model's generation processors
    t2s.generation = req.generation;
    if (t2s.generation.eos_token_ids.empty()) t2s.generation.eos_token_ids = switch_->generate_config().eos_ids;
    Text2TextOutput g = text2text_generate(*switch_, tok, req.inputs[0], t2s, req.on_text);
    r = success_result("moe_generation", g.texts[0]);
    r["generation"] = json::array({{{"prompt_tokens", g.source_ids.size()},
                                    {"new_tokens", g.sequences[0].size()},
                                    {"token_ids", g.sequences[0]},
                                    {"finish_reason", g.finish_reason}}});
    seqs.push_back({"encoder", g.source_ids, {}, {}});
    const int64_t start = switch_->generate_config().decoder_start_id.value_or(0);
    seqs.push_back(generation_sequence("decoder", {start}, g.sequences[0]));
    const EncDecParams& p = switch_->params();
    for (int d = 0; d < 2; ++d)
      for (int64_t i = 0; i < (d ? p.dec.layers : p.enc.layers); ++i)
        if (const SwitchSparseFfn* f = switch_->sparse_block(d == 1, i))
          layers.push_back({switch_->analytics_layer(d == 1, i),
                            std::string(d ? "decoder" : "encoder") + ".block." + std::to_string(i), size_t(d),
                            f->dropped_total()});
  }
  r["expert_info"] = expert_info_json(moe_ ? moe_->analytics() : switch_->analytics(), layers, seqs, tok, s);
  return r;
}

}  // namespace ia
