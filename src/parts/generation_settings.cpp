#include "parts/generation_settings.h"

#include "core/error.h"

namespace ia {

namespace {

// The config that defines `key`: generation_config.json wins, config.json is the fallback.
const HFConfig* source(const HFConfig* gen, const HFConfig& cfg, const char* key) {
  if (gen && gen->raw().contains(key)) return gen;
  if (cfg.raw().contains(key)) return &cfg;
  return nullptr;
}

std::optional<int64_t> opt_int(const HFConfig* gen, const HFConfig& cfg, const char* key) {
  const HFConfig* s = source(gen, cfg, key);
  if (!s || !s->has(key)) return std::nullopt;
  return s->get_int(key);
}

std::vector<int64_t> int_list(const HFConfig* gen, const HFConfig& cfg, const char* key) {
  const HFConfig* s = source(gen, cfg, key);
  return s ? s->get_int_list(key) : std::vector<int64_t>{};
}

}  // namespace

GenerationSettings read_generation_settings(const HFConfig* gen, const HFConfig& cfg) {
  GenerationSettings g;
  g.eos_ids = int_list(gen, cfg, "eos_token_id");
  g.pad_id = opt_int(gen, cfg, "pad_token_id");
  g.bos_id = opt_int(gen, cfg, "bos_token_id");
  g.decoder_start_id = opt_int(gen, cfg, "decoder_start_token_id");
  g.forced_bos_id = opt_int(gen, cfg, "forced_bos_token_id");
  g.forced_eos_ids = int_list(gen, cfg, "forced_eos_token_id");
  if (auto v = opt_int(gen, cfg, "max_length")) g.max_length = *v;
  g.max_new_tokens = opt_int(gen, cfg, "max_new_tokens");
  if (auto v = opt_int(gen, cfg, "min_length")) g.min_length = *v;
  if (auto v = opt_int(gen, cfg, "min_new_tokens")) g.min_new_tokens = *v;
  if (auto v = opt_int(gen, cfg, "no_repeat_ngram_size")) g.no_repeat_ngram_size = *v;
  if (auto v = opt_int(gen, cfg, "encoder_no_repeat_ngram_size")) g.encoder_no_repeat_ngram_size = *v;
  if (const HFConfig* s = source(gen, cfg, "repetition_penalty"); s && s->has("repetition_penalty"))
    g.repetition_penalty = s->get_float("repetition_penalty");
  if (const HFConfig* s = source(gen, cfg, "encoder_repetition_penalty"); s && s->has("encoder_repetition_penalty"))
    g.encoder_repetition_penalty = s->get_float("encoder_repetition_penalty");
  IA_CHECK(g.repetition_penalty > 0 && g.encoder_repetition_penalty > 0, (gen ? gen->label() : cfg.label()),
           ": repetition penalties must be strictly positive");
  if (const HFConfig* s = source(gen, cfg, "bad_words_ids"); s && s->has("bad_words_ids")) {
    const auto& j = s->raw()["bad_words_ids"];
    IA_CHECK(j.is_array(), s->label(), ": bad_words_ids must be a list of token-id lists");
    for (const auto& seq : j) {
      IA_CHECK(seq.is_array() && !seq.empty(), s->label(), ": bad_words_ids must be a list of non-empty token-id lists");
      std::vector<int64_t> v;
      for (const auto& t : seq) {
        IA_CHECK(t.is_number_integer(), s->label(), ": bad_words_ids entries must be integers");
        v.push_back(t.get<int64_t>());
      }
      g.bad_words_ids.push_back(std::move(v));
    }
  }
  g.suppress_tokens = int_list(gen, cfg, "suppress_tokens");
  g.begin_suppress_tokens = int_list(gen, cfg, "begin_suppress_tokens");
  if (const HFConfig* s = source(gen, cfg, "remove_invalid_values"); s && s->has("remove_invalid_values"))
    g.remove_invalid_values = s->get_bool("remove_invalid_values");
  if (const HFConfig* s = source(gen, cfg, "renormalize_logits"); s && s->has("renormalize_logits"))
    g.renormalize_logits = s->get_bool("renormalize_logits");
  if (const HFConfig* s = source(gen, cfg, "exponential_decay_length_penalty");
      s && s->has("exponential_decay_length_penalty")) {
    const auto& j = s->raw()["exponential_decay_length_penalty"];
    IA_CHECK(j.is_array() && j.size() == 2 && j[0].is_number_integer() && j[1].is_number(), s->label(),
             ": exponential_decay_length_penalty must be [start_index, decay_factor]");
    g.exponential_decay_length_penalty = std::make_pair(j[0].get<int64_t>(), j[1].get<double>());
  }
  return g;
}

}  // namespace ia
