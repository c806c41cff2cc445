#include "pipelines/text2text_pipeline.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "parts/logits_processors.h"
#include "pipelines/pipeline_result.h"
#include "pipelines/sampling.h"
#include "templates/encoder_decoder/encdec_model.h"

namespace ia {

using json = nlohmann::json;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void log_softmax(const float* x, int64_t n, float* y) {
  float mx = -INFINITY;
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, x[i]);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(double(x[i] - mx));
  const float lse = mx + float(std::log(sum));
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] - lse;
}

int64_t start_token(const EncDecModel& m) {
  const GenerateConfig& g = m.generate_config();
  IA_CHECK(g.decoder_start_id || g.bos_id, m.model_type(),
           ": neither decoder_start_token_id nor bos_token_id is set (config.json / generation_config.json)");
  return g.decoder_start_id ? *g.decoder_start_id : *g.bos_id;
}

bool contains(const std::vector<int64_t>& v, int64_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }

}  // namespace

EarlyStopping early_stopping_from(const json& v) {
  if (v.is_boolean()) return v.get<bool>() ? EarlyStopping::True : EarlyStopping::False;
  if (v.is_string() && v.get<std::string>() == "never") return EarlyStopping::Never;
  fail("early_stopping must be true, false or \"never\", got ", v.dump());
}

BeamResult beam_generate(EncDecModel& m, const std::vector<int64_t>& source, const BeamSettings& b, GenerateConfig g) {
  const int64_t nb = b.num_beams, S = int64_t(source.size()), V = m.vocab();
  const int64_t max_new = b.max_length - b.decoder_prompt_len;
  IA_CHECK(S > 0, "beam search: empty input");
  IA_CHECK(max_new >= 1, "beam search: max_new_tokens must be at least 1");
  // generate() expands the input to num_beams rows; they share one encoder result.
  std::vector<int64_t> rows(size_t(nb * S));
  for (int64_t r = 0; r < nb; ++r) std::copy(source.begin(), source.end(), rows.begin() + r * S);
  m.encode(rows.data(), nullptr, nb, S);
  m.start_decoding(max_new);
  g.eos_ids = b.eos_ids;
  LogitsProcessors proc(g, V, b.decoder_prompt_len, b.max_length, !b.eos_ids.empty(), true);
  const int64_t start = start_token(m);
  std::vector<std::vector<int64_t>> seqs(size_t(nb), std::vector<int64_t>{start}), next_seqs;
  std::vector<int64_t> next(size_t(nb), start), tokens, src_beam;
  std::vector<float> scores(size_t(nb * V));
  BeamSearch search(b);
  while (true) {
    const float* logits = m.decode(next.data(), 1);
    const int64_t cur_len = int64_t(seqs[0].size());
    for (int64_t r = 0; r < nb; ++r) {
      float* row = scores.data() + r * V;
      log_softmax(logits + r * V, V, row);
      proc.apply(row, seqs[size_t(r)].data(), cur_len, source.data(), S);
      const float bs = search.beam_scores()[size_t(r)];
      for (int64_t j = 0; j < V; ++j) row[j] += bs;
    }
    search.step(scores.data(), V, seqs, tokens, src_beam);
    next_seqs.resize(size_t(nb));
    for (int64_t r = 0; r < nb; ++r) {
      next_seqs[size_t(r)] = seqs[size_t(src_beam[size_t(r)])];
      next_seqs[size_t(r)].push_back(tokens[size_t(r)]);
    }
    seqs.swap(next_seqs);
    m.reorder_decoder_rows(src_beam.data());
    next = tokens;
    bool all_eos = !b.eos_ids.empty();  // EosTokenCriteria: every row ends in EOS
    for (int64_t r = 0; r < nb; ++r) all_eos = all_eos && contains(b.eos_ids, tokens[size_t(r)]);
    if (search.done() || int64_t(seqs[0].size()) >= b.max_length || all_eos) break;
  }
  return search.finalize(seqs);
}

Text2TextOutput text2text_generate(EncDecModel& m, const Tokenizer& tok, const std::string& input,
                                   const Text2TextSettings& s, const std::function<void(const std::string&)>& on_text) {
  Text2TextOutput out;
  for (auto id : tok.encode(input, s.generation.add_special_tokens).ids) out.source_ids.push_back(int64_t(id));
  IA_CHECK(!out.source_ids.empty(), "the input encodes to no tokens");
  const int64_t V = m.vocab(), S = int64_t(out.source_ids.size());
  for (int64_t id : out.source_ids)
    IA_CHECK(id >= 0 && id < V, "input token id ", id, " is outside the model's vocabulary (", V,
             "): tokenizer and model do not match");
  const int64_t max_new = s.generation.max_new_tokens;
  IA_CHECK(max_new >= 1, "max_new_tokens must be at least 1");
  const std::vector<int64_t>& eos = s.generation.eos_token_ids;
  const auto t0 = std::chrono::steady_clock::now();
  if (s.num_beams > 1) {
    IA_CHECK(!s.generation.sampling.do_sample, "beam sampling (num_beams > 1 with sampling) is not implemented");
    BeamSettings b;
    b.num_beams = s.num_beams;
    b.length_penalty = s.length_penalty;
    b.early_stopping = s.early_stopping;
    b.num_return_sequences = s.num_return_sequences;
    b.max_length = 1 + max_new;
    b.decoder_prompt_len = 1;
    b.eos_ids = eos;
    b.pad_id = m.generate_config().pad_id.value_or(0);
    BeamResult r = beam_generate(m, out.source_ids, b, m.generate_config());
    out.decode_seconds = seconds_since(t0);
    for (size_t i = 0; i < r.sequences.size(); ++i) {
      // Drop the decoder start and the padding.
      std::vector<int64_t> ids(r.sequences[i].begin() + 1, r.sequences[i].begin() + r.lengths[i]);
      if (i == 0) out.finish_reason = !ids.empty() && contains(eos, ids.back()) ? "eos" : "length";
      out.sequences.push_back(ids);
      out.scores.push_back(r.scores[i]);
    }
  } else {
    IA_CHECK(s.num_return_sequences == 1 || s.generation.sampling.do_sample,
             "num_return_sequences > 1 needs beam search (num_beams) or sampling");
    const GenerateConfig& g = m.generate_config();
    LogitsProcessors proc(g, V, 1, 1 + max_new, !eos.empty(), true);
    m.encode(out.source_ids.data(), nullptr, 1, S);
    out.encode_seconds = seconds_since(t0);
    std::vector<float> scores(static_cast<size_t>(V));
    for (int64_t n = 0; n < s.num_return_sequences; ++n) {
      SamplingParams sp = s.generation.sampling;
      sp.seed += uint64_t(n);
      Sampler sampler(sp);
      m.start_decoding(max_new);
      std::vector<int64_t> seq{start_token(m)}, gen;
      std::string shown;
      std::string finish = "length";
      for (int64_t step = 0; step < max_new; ++step) {
        const float* logits = m.decode(&seq.back(), 1);
        std::memcpy(scores.data(), logits, size_t(V) * 4);
        proc.apply(scores.data(), seq.data(), int64_t(seq.size()), out.source_ids.data(), S);
        const int64_t t = sampler.next(scores.data(), V, seq);
        seq.push_back(t);
        if (contains(eos, t)) {
          finish = "eos";
          break;
        }
        gen.push_back(t);
        if (on_text && n == 0) {
          std::vector<uint32_t> u(gen.begin(), gen.end());
          std::string text = tok.decode(u, true);
          if (text.size() > shown.size() && text.compare(0, shown.size(), shown) == 0) {
            on_text(text.substr(shown.size()));
            shown = text;
          }
        }
      }
      if (finish == "eos") gen.push_back(seq.back());
      if (n == 0) out.finish_reason = finish;
      out.sequences.push_back(gen);
    }
    out.decode_seconds = seconds_since(t0) - out.encode_seconds;
  }
  for (const auto& ids : out.sequences) {
    std::vector<uint32_t> u;
    for (int64_t id : ids)
      if (!contains(eos, id)) u.push_back(uint32_t(id));
    out.texts.push_back(tok.decode(u, true));
  }
  return out;
}

Text2TextPipeline::Text2TextPipeline(const std::string& dir) : text_(dir), ctx_(ModelContext::open(dir)) {
  model_ = dynamic_cast<EncDecModel*>(&text_.model());
  IA_CHECK(model_ != nullptr, dir, ": text2text generation needs an encoder-decoder model (this is ",
           text_.model().model_type(), ")");
}

Text2TextSettings Text2TextPipeline::defaults() const {
  Text2TextSettings s;
  s.generation = text_.generation_defaults();
  if (s.generation.eos_token_ids.empty()) s.generation.eos_token_ids = model_->generate_config().eos_ids;
  const HFConfig* gc = ctx_.generation_config ? &*ctx_.generation_config : nullptr;
  for (const HFConfig* c : {&ctx_.config, gc}) {  // generation_config.json wins
    if (!c) continue;
    if (c->has("num_beams")) s.num_beams = c->get_int("num_beams");
    if (c->has("length_penalty")) s.length_penalty = c->get_float("length_penalty");
    if (c->has("early_stopping")) s.early_stopping = early_stopping_from(c->raw()["early_stopping"]);
    if (c->has("num_return_sequences")) s.num_return_sequences = c->get_int("num_return_sequences");
  }
  return s;
}

json Text2TextPipeline::run(const TextRequest& req_in, const Text2TextSettings& s_in) {
  try {
    TextRequest req = req_in;
    std::vector<std::string> tasks = model_->tasks();
    if (req.task.empty()) req.task = tasks.front();
    IA_CHECK(std::find(tasks.begin(), tasks.end(), req.task) != tasks.end(), "task '", req.task, "' is not served by ",
             model_->model_type(), " (its heads allow: ", json(tasks).dump(), ")");
    IA_CHECK(!req.inputs.empty(), "no input text given");
    if (req.task != "text2text-generation" && req.task != "summarization" && req.task != "translation")
      return text_.run(req);  // e.g. feature-extraction on a base model
    const std::string key = req.task == "summarization" ? "summary" : req.task == "translation" ? "translation"
                                                                                                  : "generated_text";
    Text2TextSettings s = s_in;
    json all = json::array(), details = json::array();
    for (size_t i = 0; i < req.inputs.size(); ++i) {
      Text2TextOutput o = text2text_generate(*model_, text_.tokenizer(), req.inputs[i], s, i == 0 ? req.on_text : nullptr);
      json seqs = json::array();
      for (size_t j = 0; j < o.sequences.size(); ++j) {
        json e = {{"text", o.texts[j]}, {"token_ids", o.sequences[j]}};
        if (j < o.scores.size()) e["score"] = o.scores[j];
        seqs.push_back(e);
      }
      all.push_back(o.texts[0]);
      details.push_back({{"input_tokens", o.source_ids.size()}, {"sequences", seqs}, {"finish_reason", o.finish_reason},
                         {"decode_seconds", o.decode_seconds}});
    }
    json r = success_result(key, all[0]);
    r["all_texts"] = all;
    r["generation"] = details;
    const auto& sp = s.generation.sampling;
    r["parameters"] = {{"max_new_tokens", s.generation.max_new_tokens},
                       {"num_beams", s.num_beams},
                       {"length_penalty", s.length_penalty},
                       {"early_stopping", s.early_stopping == EarlyStopping::Never ? json("never")
                                                                                     : json(s.early_stopping == EarlyStopping::True)},
                       {"num_return_sequences", s.num_return_sequences},
                       {"do_sample", sp.do_sample},
                       {"temperature", sp.temperature},
                       {"top_k", sp.top_k},
                       {"top_p", sp.top_p},
                       {"seed", sp.seed}};
    return r;
  } catch (const std::exception& e) {
    return error_result(e.what());
  }
}

}  // namespace ia
