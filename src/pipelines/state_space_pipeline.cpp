#include "pipelines/state_space_pipeline.h"

#include <cstring>

#include "core/error.h"
#include "pipelines/pipeline_result.h"
#include "templates/state_space/state_space_model.h"

namespace ia {

using json = nlohmann::json;

namespace {

// Drives generate_text() on a StateSpaceModel: the prompt is fed in chunks, on top
// of a loaded state when there is one (then it continues that state).
class ChunkedDecoder : public StepDecoder {
 public:
  ChunkedDecoder(StateSpaceModel& m, int64_t chunk, bool continue_state) : m_(m), chunk_(chunk), cont_(continue_state) {}
  int64_t vocab() const override { return m_.vocab(); }
  const float* prefill(const int64_t* ids, const int64_t*, int64_t batch, int64_t P, int64_t) override {
    IA_CHECK(batch == 1, "state-space pipeline: one prompt at a time");
    if (!cont_) return m_.prefill_chunked(ids, nullptr, 1, P, chunk_);
    IA_CHECK(m_.state().batch() == 1, m_.model_type(), ": the loaded state holds ", m_.state().batch(),
             " rows; the pipeline continues one");
    const float* hidden = m_.feed(ids, nullptr, P, chunk_);
    logits_.resize(size_t(m_.vocab()));
    m_.logits_of(hidden + (P - 1) * m_.params().hidden, 1, logits_.data());
    return logits_.data();
  }
  const float* decode_step(const int64_t* tokens) override { return m_.decode_step(tokens); }

 private:
  StateSpaceModel& m_;
  int64_t chunk_;
  bool cont_;
  std::vector<float> logits_;
};

json rekey(json r, const std::string& from, const std::string& to) {
  if (r.value("success", false) && r.contains(from)) {
    r[to] = r[from];
    r.erase(from);
  }
  return r;
}

}  // namespace

StateSpacePipeline::StateSpacePipeline(const std::string& dir) : text_(dir) {
  model_ = dynamic_cast<StateSpaceModel*>(&text_.model());
  IA_CHECK(model_ != nullptr, dir, ": the state-space pipeline needs a mamba, mamba2 or rwkv model (this is ",
           text_.model().model_type(), ")");
}

json StateSpacePipeline::run(const TextRequest& req_in, const StateSpaceOptions& opts) {
  try {
    TextRequest req = req_in;
    if (req.task.empty()) req.task = model_->tasks().front();
    IA_CHECK(opts.chunk_size >= 0, "--chunk-size must not be negative");
    if (req.task == "text-generation") return generate(req, opts);
    IA_CHECK(opts.load_state.empty() && opts.save_state.empty(), "--load-state / --save-state apply to text-generation");
    const std::string key = req.task == "feature-extraction" ? "state_space_output" : "state_space_classification";
    const std::string from = req.task == "feature-extraction" ? "embeddings" : "classification";
    json r = rekey(text_.run(req), from, key);
    if (r.value("success", false)) r["state_info"] = state_info(model_->state().tokens(), opts);
    return r;
  } catch (const std::exception& e) {
    return error_result(e.what());
  }
}

json StateSpacePipeline::generate(const TextRequest& req, const StateSpaceOptions& opts) {
  IA_CHECK(req.inputs.size() == 1, "state-space generation takes one input (the state is one sequence)");
  const bool cont = !opts.load_state.empty();
  if (cont) model_->load_state(opts.load_state);
  const int64_t before = cont ? model_->state().tokens() : 0;
  GenerationSettings gs = req.generation;
  if (cont) gs.add_special_tokens = false;  // a continuation of the saved text
  ChunkedDecoder dec(*model_, opts.chunk_size, cont);
  GenerationOutput g;
  if (gs.max_new_tokens > 0) {
    g = generate_text(dec, text_.tokenizer(), req.inputs[0], gs, req.on_text);
  } else {  // only the prompt: what --save-state after a prefix needs
    Encoding enc = text_.tokenizer().encode(req.inputs[0], gs.add_special_tokens);
    IA_CHECK(!enc.ids.empty(), "the prompt encodes to no tokens");
    for (auto id : enc.ids) g.prompt_ids.push_back(int64_t(id));
    for (int64_t id : g.prompt_ids)
      IA_CHECK(id >= 0 && id < model_->vocab(), "prompt token id ", id, " is outside the model's vocabulary");
    dec.prefill(g.prompt_ids.data(), nullptr, 1, int64_t(g.prompt_ids.size()), 0);
    g.finish_reason = "length";
  }
  // The last generated token has not been fed yet: feed it so the state covers
  // everything produced (a continuation must not lose it).
  if (!opts.save_state.empty()) {
    if (!g.new_ids.empty()) model_->decode_step(&g.new_ids.back());
    model_->save_state(opts.save_state);
  }
  const size_t n = g.new_ids.size();
  json r = success_result("state_space_generation", g.text);
  r["generation"] = {{"prompt_tokens", g.prompt_ids.size()},
                     {"new_tokens", n},
                     {"token_ids", g.new_ids},
                     {"finish_reason", g.finish_reason}};
  json info = state_info(model_->state().tokens(), opts);
  const StateStats& s = model_->stats();
  info["prefill_tokens_per_second"] = s.prefill_seconds > 0 ? double(s.tokens_prefilled) / s.prefill_seconds : 0.0;
  info["decode_tokens_per_second"] = s.decode_seconds > 0 ? double(s.tokens_decoded) / s.decode_seconds : 0.0;
  info["tokens_per_second"] = (s.prefill_seconds + s.decode_seconds) > 0
                                  ? double(s.tokens_prefilled + s.tokens_decoded) / (s.prefill_seconds + s.decode_seconds)
                                  : 0.0;
  info["continued_from_tokens"] = before;
  r["state_info"] = info;
  const auto& sp = gs.sampling;
  r["parameters"] = {{"max_new_tokens", gs.max_new_tokens}, {"do_sample", sp.do_sample}, {"temperature", sp.temperature},
                     {"top_k", sp.top_k}, {"top_p", sp.top_p}, {"seed", sp.seed}, {"chunk_size", opts.chunk_size}};
  return r;
}

json StateSpacePipeline::state_info(int64_t tokens_in_state, const StateSpaceOptions& opts) const {
  const StateStats& s = model_->stats();
  const size_t state = model_->state_bytes(), kv = model_->kv_cache_equivalent_bytes(tokens_in_state);
  json j = {{"model_type", model_->model_type()},
            {"chunk_size", opts.chunk_size},
            {"chunks_processed", s.chunks_processed},
            {"tokens_prefilled", s.tokens_prefilled},
            {"tokens_decoded", s.tokens_decoded},
            {"tokens_per_chunk", s.chunks_processed > 0 ? double(s.tokens_prefilled) / double(s.chunks_processed) : 0.0},
            {"tokens_in_state", tokens_in_state},
            {"state_bytes", state},
            {"kv_cache_bytes_same_length", kv},
            {"state_vs_kv_cache_ratio", kv > 0 ? double(state) / double(kv) : 0.0},
            {"prefill_seconds", s.prefill_seconds},
            {"decode_seconds", s.decode_seconds}};
  if (!opts.load_state.empty()) j["state_loaded_from"] = opts.load_state;
  if (!opts.save_state.empty()) j["state_saved_to"] = opts.save_state;
  return j;
}

}  // namespace ia
