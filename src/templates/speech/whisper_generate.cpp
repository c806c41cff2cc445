// Whisper short-form generation: prompt (init tokens), language detection,
// greedy decoding with the generation config's logits processors, and the
// post-processing of WhisperGenerationMixin.generate (transformers 4.44.2).
#include <algorithm>
#include <cctype>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "templates/greedy_decode.h"
#include "parts/logits_processors.h"
#include "templates/speech/whisper_languages.h"
#include "templates/speech/whisper_model.h"
#include "templates/speech/whisper_timestamps.h"

namespace ia {

namespace {

std::optional<std::map<std::string, int64_t>> id_map(const nlohmann::json& j, const char* key, const std::string& label) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  IA_CHECK(j[key].is_object(), label, ": ", key, " must be an object of token -> id");
  std::map<std::string, int64_t> m;
  for (auto it = j[key].begin(); it != j[key].end(); ++it) {
    IA_CHECK(it.value().is_number_integer(), label, ": ", key, "[\"", it.key(), "\"] must be an integer token id");
    m[it.key()] = it.value().get<int64_t>();
  }
  return m;
}

std::optional<int64_t> opt_int(const nlohmann::json& j, const char* key, const std::string& label) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  IA_CHECK(j[key].is_number_integer(), label, ": ", key, " must be an integer");
  return j[key].get<int64_t>();
}

std::vector<std::pair<int64_t, std::optional<int64_t>>> forced_ids(const nlohmann::json& j, const std::string& label) {
  std::vector<std::pair<int64_t, std::optional<int64_t>>> r;
  if (!j.contains("forced_decoder_ids") || j["forced_decoder_ids"].is_null()) return r;
  const auto& f = j["forced_decoder_ids"];
  IA_CHECK(f.is_array(), label, ": forced_decoder_ids must be a list of [position, token] pairs");
  for (const auto& e : f) {
    IA_CHECK(e.is_array() && e.size() == 2 && e[0].is_number_integer() && (e[1].is_null() || e[1].is_number_integer()),
             label, ": forced_decoder_ids entries must be [position, token or null], got ", e.dump());
    r.emplace_back(e[0].get<int64_t>(), e[1].is_null() ? std::nullopt : std::optional<int64_t>(e[1].get<int64_t>()));
  }
  return r;
}

std::string lower(std::string s) {
  for (auto& ch : s) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

int64_t language_to_id(const WhisperPromptConfig& c, const std::string& language) {
  const std::string l = lower(language);
  std::string token;
  if (c.lang_to_id->count(l)) token = l;
  else if (auto code = whisper_language_code(l)) token = cat("<|", *code, "|>");
  IA_CHECK(!token.empty(), "whisper: unsupported language '", language,
           "': use a language code ('en'), a name ('english') or a token ('<|en|>')");
  auto it = c.lang_to_id->find(token);
  IA_CHECK(it != c.lang_to_id->end(), "whisper: ", token,
           " is not supported by this model: it is not in generation_config.lang_to_id");
  return it->second;
}

}  // namespace

WhisperPromptConfig whisper_prompt_config(const ModelContext& ctx, int64_t vocab, int64_t max_target_positions) {
  // generate() reads generation_config.json; without it GenerationConfig.from_model_config
  // keeps every config.json key as an attribute.
  const HFConfig& g = ctx.generation_config ? *ctx.generation_config : ctx.config;
  const nlohmann::json& j = g.raw();
  WhisperPromptConfig c;
  c.vocab = vocab;
  c.max_target_positions = max_target_positions;
  if (auto v = opt_int(j, "decoder_start_token_id", g.label())) c.decoder_start = *v;
  else if (auto w = opt_int(ctx.config.raw(), "decoder_start_token_id", ctx.config.label())) c.decoder_start = *w;
  if (auto v = opt_int(j, "pad_token_id", g.label())) c.pad = *v;
  else if (auto w = opt_int(ctx.config.raw(), "pad_token_id", ctx.config.label())) c.pad = *w;
  c.no_timestamps_id = opt_int(j, "no_timestamps_token_id", g.label());
  c.max_initial_timestamp_index = opt_int(j, "max_initial_timestamp_index", g.label());
  if (j.contains("eos_token_id") && j["eos_token_id"].is_array() && !j["eos_token_id"].empty() &&
      j["eos_token_id"][0].is_number_integer())
    c.eos = j["eos_token_id"][0].get<int64_t>();
  else
    c.eos = opt_int(j, "eos_token_id", g.label());
  c.bos = opt_int(j, "bos_token_id", g.label());
  c.lang_to_id = id_map(j, "lang_to_id", g.label());
  c.task_to_id = id_map(j, "task_to_id", g.label());
  if (j.contains("is_multilingual") && !j["is_multilingual"].is_null()) c.is_multilingual = g.get_bool("is_multilingual");
  c.forced_decoder_ids = forced_ids(j, g.label());
  // _retrieve_init_tokens falls back to the model config's forced_decoder_ids.
  if (c.forced_decoder_ids.empty()) c.forced_decoder_ids = forced_ids(ctx.config.raw(), ctx.config.label());
  return c;
}

std::vector<std::vector<int64_t>> whisper_init_tokens(const WhisperPromptConfig& c,
                                                      const std::vector<std::string>& language,
                                                      const std::string& task, int64_t batch,
                                                      const std::function<std::vector<int64_t>()>& detect,
                                                      bool return_timestamps) {
  // _set_language_and_task
  if (c.is_multilingual && !*c.is_multilingual && (!task.empty() || !language.empty()))
    throw Error("whisper: cannot specify a task or language for an English-only model (generation_config "
                "is_multilingual = false)");
  IA_CHECK(language.empty() || c.lang_to_id, "whisper: a language was requested, but generation_config.json has no "
                                             "lang_to_id (set the language through forced_decoder_ids instead)");
  IA_CHECK(task.empty() || c.task_to_id, "whisper: a task was requested, but generation_config.json has no task_to_id");

  // _retrieve_init_tokens: forced_decoder_ids give way to an explicit task or language.
  auto forced = c.forced_decoder_ids;
  if (!task.empty() || !language.empty()) forced.clear();
  std::vector<std::optional<int64_t>> init = {c.decoder_start};
  if (!forced.empty() && forced[0].first == 1) {
    size_t k = 0;
    for (int64_t i = 1; k < forced.size() && forced[k].first == i; ++k, ++i) init.push_back(forced[k].second);
    IA_CHECK(k == forced.size(), "whisper: forced_decoder_ids do not follow Whisper's prompt pattern (positions 1, 2, "
                                 "... without gaps)");
  }
  const bool lang_undefined = init.size() <= 1 || !init[1];
  IA_CHECK(language.size() <= 1 || int64_t(language.size()) == batch, "whisper: ", language.size(),
           " languages given for a batch of ", batch, " (give one, or one per row)");

  std::vector<int64_t> lang_ids;
  if (!language.empty()) {
    for (int64_t b = 0; b < batch; ++b) lang_ids.push_back(language_to_id(c, language[language.size() == 1 ? 0 : size_t(b)]));
  } else if (c.lang_to_id && lang_undefined) {
    lang_ids = detect();
  }
  std::vector<std::vector<int64_t>> rows;
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<std::optional<int64_t>> r = init;
    if (!lang_ids.empty()) {
      if (r.size() > 1) r[1] = lang_ids[size_t(b)];
      else r.push_back(lang_ids[size_t(b)]);
    }
    if (!task.empty()) {
      IA_CHECK(task == "transcribe" || task == "translate", "whisper: the task '", task,
               "' is not supported: use 'transcribe' or 'translate'");
      auto it = c.task_to_id->find(task);
      IA_CHECK(it != c.task_to_id->end(), "whisper: generation_config.task_to_id has no '", task, "'");
      r.push_back(it->second);
    } else if (!language.empty() && c.task_to_id) {
      // A language without a task defaults to transcription.
      bool has_task = false;
      for (const auto& [_, id] : *c.task_to_id)
        for (const auto& t : r) has_task = has_task || (t && *t == id);
      if (!has_task) {
        auto it = c.task_to_id->find("transcribe");
        IA_CHECK(it != c.task_to_id->end(), "whisper: generation_config.task_to_id has no 'transcribe'");
        r.push_back(it->second);
      }
    }
    // Generation without timestamps ends the prompt with <|notimestamps|>; with
    // timestamps a forced <|notimestamps|> is dropped.
    const bool ends_no_ts = c.no_timestamps_id && r.back() && *r.back() == *c.no_timestamps_id;
    if (!return_timestamps && c.no_timestamps_id && !ends_no_ts) r.push_back(*c.no_timestamps_id);
    else if (return_timestamps && ends_no_ts) r.pop_back();
    std::vector<int64_t> row;
    for (const auto& t : r)
      if (t) row.push_back(*t);
    rows.push_back(std::move(row));
  }
  for (const auto& r : rows)
    IA_CHECK(r.size() == rows[0].size(), "whisper: the rows' prompts differ in length");
  return rows;
}

std::vector<int64_t> whisper_finish_row(std::vector<int64_t> seq, int64_t pad, int64_t timestamp_begin) {
  // generate_with_fallback: a row ending in pad loses as many tokens from its end as
  // it holds pad tokens (pad == EOS for Whisper, so a final EOS goes too).
  if (!seq.empty() && seq.back() == pad) {
    const size_t n = size_t(std::count(seq.begin(), seq.end(), pad));
    seq.resize(seq.size() - std::min(n, seq.size()));
  }
  // _retrieve_segment: with consecutive timestamp tokens the row is cut into segments
  // and what follows the last pair is dropped unless a single timestamp ends the row.
  const size_t n = seq.size();
  std::vector<size_t> cuts;
  for (size_t i = 0; i + 1 < n; ++i)
    if (seq[i] >= timestamp_begin && seq[i + 1] >= timestamp_begin) cuts.push_back(i + 1);
  if (!cuts.empty()) {
    const bool single_ending = n >= 2 && seq[n - 2] < timestamp_begin && seq[n - 1] >= timestamp_begin;
    if (!single_ending) seq.resize(cuts.back());
  }
  return seq;
}

std::vector<int64_t> WhisperModel::detect_language(int64_t batch) {
  // detect_language: logits of <|startoftranscript|>, restricted to the language tokens.
  const int64_t V = p_.vocab;
  start_decoding(1);
  std::vector<int64_t> start(size_t(batch), prompt_.decoder_start);
  const float* logits = decode(start.data(), 1);
  std::vector<int64_t> r;
  for (int64_t b = 0; b < batch; ++b) {
    int64_t best = -1;
    for (const auto& [_, id] : *prompt_.lang_to_id) {
      IA_CHECK(id >= 0 && id < V, "whisper: lang_to_id token ", id, " is outside the vocabulary (", V, ")");
      // argmax over the vocabulary with every other token at -inf: first maximum by index
      if (best < 0 || logits[b * V + id] > logits[b * V + best] ||
          (logits[b * V + id] == logits[b * V + best] && id < best))
        best = id;
    }
    r.push_back(best);
  }
  return r;
}

TensorMap WhisperModel::generate(const TensorMap& in, const GenerateOptions& opts) {
  return generate(in, opts, WhisperDecodeOptions{});
}

TensorMap WhisperModel::generate(const TensorMap& in, const GenerateOptions& opts, const WhisperDecodeOptions& wopts) {
  const std::string& who = p_.model_type;
  if (p_.head != EncDecHead::ConditionalGeneration)
    throw Unsupported(cat(who, ": ", p_.architecture, " has no language-model head to generate with"));
  const Tensor& features = require_input(in, "input_features", who);
  IA_CHECK(features.rank() == 3 && features.dim(0) > 0, who, ": input_features must be [batch, num_mel_bins, frames], got ",
           shape_str(features.shape()));
  if (features.dim(2) > encoder_.input_frames())
    throw Unsupported(cat(who, ": ", features.dim(2), " mel frames is long-form audio (more than ",
                          encoder_.input_frames(), "), which needs timestamp prediction; split it into 30 s "
                          "windows (the automatic-speech-recognition pipeline chunks long audio)"));
  IA_CHECK(opts.max_new_tokens >= 0, who, ": max_new_tokens must not be negative");
  const int64_t B = features.dim(0), V = p_.vocab;
  encode_audio(features);
  IA_CHECK(!wopts.return_timestamps || prompt_.no_timestamps_id, who,
           ": timestamps need generation_config.no_timestamps_token_id, which this model's generation config lacks");
  auto rows = whisper_init_tokens(prompt_, opts.language, opts.task, B, [&] { return detect_language(B); },
                                  wopts.return_timestamps);
  const int64_t P = int64_t(rows[0].size());
  for (const auto& r : rows)
    for (int64_t t : r) IA_CHECK(t >= 0 && t < V, who, ": prompt token ", t, " is outside the vocabulary (", V, ")");
  const int64_t max_new = opts.max_new_tokens;
  IA_CHECK(P + max_new <= prompt_.max_target_positions, who, ": the prompt (", P, " tokens) plus max_new_tokens (",
           max_new, ") exceeds max_target_positions ", prompt_.max_target_positions);

  GenerateConfig g = generate_config();
  if (!opts.eos_token_ids.empty()) g.eos_ids = opts.eos_token_ids;
  const bool eos_on = opts.eos_stops && !g.eos_ids.empty();
  const int64_t pad = opts.pad_token_id ? *opts.pad_token_id : prompt_.pad;
  const int64_t L = P + max_new;
  LogitsProcessors proc(g, V, P, L, eos_on, true);
  std::optional<WhisperTimestampRules> ts;
  if (wopts.return_timestamps) {
    ts.emplace();
    ts->no_timestamps_id = *prompt_.no_timestamps_id;
    IA_CHECK(prompt_.eos || prompt_.bos, who, ": timestamps need an eos_token_id (or bos_token_id) in the generation config");
    ts->eos_id = prompt_.eos ? *prompt_.eos : *prompt_.bos;
    ts->begin_index = P;
    ts->max_initial_timestamp_index = prompt_.max_initial_timestamp_index;
  }

  std::vector<int64_t> seq(size_t(B * L), pad);
  for (int64_t b = 0; b < B; ++b) std::copy(rows[size_t(b)].begin(), rows[size_t(b)].end(), seq.begin() + b * L);
  std::vector<float> step_logits, step_scores, scores(static_cast<size_t>(V));
  step_logits.reserve(size_t(B * max_new * V));
  step_scores.reserve(size_t(B * max_new * V));
  std::vector<char> done(size_t(B), 0);
  std::vector<int64_t> next(static_cast<size_t>(B));
  int64_t produced = 0;
  if (max_new > 0) {
    start_decoding(L);
    std::vector<int64_t> prompt(size_t(B * P));
    for (int64_t b = 0; b < B; ++b) std::copy(rows[size_t(b)].begin(), rows[size_t(b)].end(), prompt.begin() + b * P);
    const float* logits = decode(prompt.data(), P);
    int64_t stride = P;  // logits rows per batch row of the last decode call
    while (true) {
      const int64_t cur_len = P + produced;
      for (int64_t b = 0; b < B; ++b) {
        const float* row = logits + (b * stride + stride - 1) * V;
        step_logits.insert(step_logits.end(), row, row + V);
        std::memcpy(scores.data(), row, size_t(V) * 4);
        proc.apply(scores.data(), seq.data() + b * L, cur_len, nullptr, 0);
        if (ts) ts->apply(scores.data(), V, seq.data() + b * L, cur_len);
        step_scores.insert(step_scores.end(), scores.begin(), scores.end());
        next[size_t(b)] = done[size_t(b)] ? pad : first_argmax(scores.data(), V);
        seq[size_t(b * L + cur_len)] = next[size_t(b)];
      }
      ++produced;
      const bool all_done = mark_finished_rows(next, g.eos_ids, eos_on, done);
      if ((eos_on && all_done) || produced >= max_new) break;
      logits = decode(next.data(), 1);
      stride = 1;
    }
  }
  // Post-processing: each row trimmed as Whisper does, then right-padded to the longest.
  const int64_t timestamp_begin = prompt_.no_timestamps_id ? *prompt_.no_timestamps_id + 1 : V + 1;
  std::vector<std::vector<int64_t>> finished;
  size_t longest = 0;
  for (int64_t b = 0; b < B; ++b) {
    std::vector<int64_t> r(seq.begin() + b * L, seq.begin() + b * L + P + produced);
    finished.push_back(whisper_finish_row(std::move(r), prompt_.pad, timestamp_begin));
    longest = std::max(longest, finished.back().size());
  }
  Tensor sequences = Tensor::empty(DType::I64, {B, int64_t(longest)});
  for (int64_t b = 0; b < B; ++b) {
    auto& r = finished[size_t(b)];
    r.resize(longest, prompt_.pad);
    std::copy(r.begin(), r.end(), sequences.i64() + b * int64_t(longest));
  }
  TensorMap out{{"sequences", sequences}};
  if (opts.return_step_logits) {
    Tensor sl = batch_major_steps(step_logits, B, produced, V), ss = batch_major_steps(step_scores, B, produced, V);
    out["step_logits"] = sl;
    out["step_scores"] = ss;
  }
  return out;
}

}  // namespace ia
