#include "parts/generate_config.h"

#include "core/error.h"

namespace ia {

namespace {

// PretrainedConfig._get_generation_defaults() (4.44.2).
const nlohmann::json& generation_defaults() {
  static const nlohmann::json d = {
      {"max_length", 20},          {"min_length", 0},          {"do_sample", false},
      {"early_stopping", false},   {"num_beams", 1},           {"num_beam_groups", 1},
      {"diversity_penalty", 0.0},  {"temperature", 1.0},       {"top_k", 50},
      {"top_p", 1.0},              {"typical_p", 1.0},         {"repetition_penalty", 1.0},
      {"length_penalty", 1.0},     {"no_repeat_ngram_size", 0}, {"encoder_no_repeat_ngram_size", 0},
      {"bad_words_ids", nullptr},  {"num_return_sequences", 1}, {"output_scores", false},
      {"return_dict_in_generate", false}, {"forced_bos_token_id", nullptr}, {"forced_eos_token_id", nullptr},
      {"remove_invalid_values", false},   {"exponential_decay_length_penalty", nullptr},
      {"suppress_tokens", nullptr},       {"begin_suppress_tokens", nullptr}};
  return d;
}

bool has_non_default_generation_parameters(const HFConfig& model) {
  for (auto it = generation_defaults().begin(); it != generation_defaults().end(); ++it) {
    const auto& raw = model.raw();
    nlohmann::json v = raw.contains(it.key()) ? raw[it.key()] : it.value();
    if (v != it.value()) return true;
  }
  return false;
}

std::optional<int64_t> opt_int(const HFConfig& s, const char* key) {
  if (!s.has(key)) return std::nullopt;
  return s.get_int(key);
}

}  // namespace

GenerateConfig read_generate_config(const HFConfig* gen, const HFConfig& cfg,
                                            const nlohmann::json& class_defaults) {
  nlohmann::json merged = class_defaults.is_object() ? class_defaults : nlohmann::json::object();
  for (auto it = cfg.raw().begin(); it != cfg.raw().end(); ++it) merged[it.key()] = it.value();
  const HFConfig model = HFConfig::from_json(merged, cfg.label());
  bool use_model = gen == nullptr;
  if (gen && gen->get_bool("_from_model_config", false) && has_non_default_generation_parameters(model)) use_model = true;
  const HFConfig& s = use_model ? model : *gen;
  GenerateConfig g;
  g.eos_ids = s.get_int_list("eos_token_id");
  g.pad_id = opt_int(s, "pad_token_id");
  g.bos_id = opt_int(s, "bos_token_id");
  g.decoder_start_id = opt_int(s, "decoder_start_token_id");
  g.forced_bos_id = opt_int(s, "forced_bos_token_id");
  g.forced_eos_ids = s.get_int_list("forced_eos_token_id");
  if (auto v = opt_int(s, "max_length")) g.max_length = *v;
  g.max_new_tokens = opt_int(s, "max_new_tokens");
  if (auto v = opt_int(s, "min_length")) g.min_length = *v;
  if (auto v = opt_int(s, "min_new_tokens")) g.min_new_tokens = *v;
  if (auto v = opt_int(s, "no_repeat_ngram_size")) g.no_repeat_ngram_size = *v;
  if (auto v = opt_int(s, "encoder_no_repeat_ngram_size")) g.encoder_no_repeat_ngram_size = *v;
  if (s.has("repetition_penalty"))
    g.repetition_penalty = s.get_float("repetition_penalty");
  if (s.has("encoder_repetition_penalty"))
    g.encoder_repetition_penalty = s.get_float("encoder_repetition_penalty");
  IA_CHECK(g.repetition_penalty > 0 && g.encoder_repetition_penalty > 0, s.label(),
           ": repetition penalties must be strictly positive");
  if (s.has("bad_words_ids")) {
    const auto& j = s.raw()["bad_words_ids"];
    IA_CHECK(j.is_array(), s.label(), ": bad_words_ids must be a list of token-id lists");
    for (const auto& seq : j) {
      IA_CHECK(seq.is_array() && !seq.empty(), s.label(), ": bad_words_ids must be a list of non-empty token-id lists");
      std::vector<int64_t> v;
      for (const auto& t : seq) {
        IA_CHECK(t.is_number_integer(), s.label(), ": bad_words_ids entries must be integers");
        v.push_back(t.get<int64_t>());
      }
      g.bad_words_ids.push_back(std::move(v));
    }
  }
  g.suppress_tokens = s.get_int_list("suppress_tokens");
  g.begin_suppress_tokens = s.get_int_list("begin_suppress_tokens");
  if (s.has("remove_invalid_values"))
    g.remove_invalid_values = s.get_bool("remove_invalid_values");
  if (s.has("renormalize_logits"))
    g.renormalize_logits = s.get_bool("renormalize_logits");
  if (s.has("exponential_decay_length_penalty")) {
    const auto& j = s.raw()["exponential_decay_length_penalty"];
    IA_CHECK(j.is_array() && j.size() == 2 && j[0].is_number_integer() && j[1].is_number(), s.label(),
             ": exponential_decay_length_penalty must be [start_index, decay_factor]");
    g.exponential_decay_length_penalty = std::make_pair(j[0].get<int64_t>(), j[1].get<double>());
  }
  return g;
}

}  // namespace ia
