// RagConfig (4.44.2) as the model reads it: retrieval settings, and the generation
// config RagTokenForGeneration.generate uses. That generate() takes
// self.generation_config as it is (no legacy model-config path): generation_config.json
// when present, otherwise GenerationConfig.from_model_config(RagConfig), where
// RagConfig copies forced_eos_token_id from the generator when it has none and
// from_model_config fills every field still at its GenerationConfig default from the
// "generator" sub-config.
#include "templates/rag/rag_config.h"

#include "core/error.h"

namespace ia {

namespace {

using json = nlohmann::json;

// GenerationConfig() defaults of the fields the greedy path reads (and num_beams).
const json& generation_field_defaults() {
  static const json d = {{"bos_token_id", nullptr},
                         {"eos_token_id", nullptr},
                         {"pad_token_id", nullptr},
                         {"decoder_start_token_id", nullptr},
                         {"forced_bos_token_id", nullptr},
                         {"forced_eos_token_id", nullptr},
                         {"max_length", 20},
                         {"max_new_tokens", nullptr},
                         {"min_length", 0},
                         {"min_new_tokens", nullptr},
                         {"no_repeat_ngram_size", 0},
                         {"encoder_no_repeat_ngram_size", 0},
                         {"repetition_penalty", 1.0},
                         {"encoder_repetition_penalty", 1.0},
                         {"bad_words_ids", nullptr},
                         {"suppress_tokens", nullptr},
                         {"begin_suppress_tokens", nullptr},
                         {"remove_invalid_values", false},
                         {"renormalize_logits", false},
                         {"exponential_decay_length_penalty", nullptr},
                         {"num_beams", 1},
                         {"num_return_sequences", 1},
                         {"length_penalty", 1.0},
                         {"early_stopping", false}};
  return d;
}

bool is_default(const json& v, const json& def) {
  if (v.is_number() && def.is_number()) return v.get<double>() == def.get<double>();
  return v == def;
}

}  // namespace

RagSettings rag_settings_from_config(const HFConfig& c, const HFConfig& generator) {
  RagSettings s;
  s.n_docs = c.get_int("n_docs", 5);
  IA_CHECK(s.n_docs > 0, c.label(), ": n_docs must be positive, got ", s.n_docs);
  s.title_sep = c.get_string("title_sep", " / ");
  s.doc_sep = c.get_string("doc_sep", " // ");
  s.prefix = generator.get_string("prefix", "");
  s.max_combined_length = c.get_int("max_combined_length", 300);
  IA_CHECK(s.max_combined_length > 0, c.label(), ": max_combined_length must be positive, got ", s.max_combined_length);
  s.do_marginalize = c.get_bool("do_marginalize", false);
  s.output_retrieved = c.get_bool("output_retrieved", false);
  s.retrieval_vector_size = c.get_int("retrieval_vector_size", 768);
  return s;
}

RagGeneration rag_generation_config(const HFConfig* generation_config, const HFConfig& c, const HFConfig& generator,
                                    const json& generator_class_defaults) {
  RagGeneration r;
  const HFConfig* src = generation_config;
  HFConfig derived;
  if (!src) {
    json merged = json::object();
    for (auto it = c.raw().begin(); it != c.raw().end(); ++it)
      if (it.key() != "generator" && it.key() != "question_encoder") merged[it.key()] = it.value();
    // The generator's fields as its config object holds them (class defaults under config.json).
    json gen = generator_class_defaults.is_object() ? generator_class_defaults : json::object();
    for (auto it = generator.raw().begin(); it != generator.raw().end(); ++it) gen[it.key()] = it.value();
    if (!merged.contains("forced_eos_token_id") || merged["forced_eos_token_id"].is_null())
      merged["forced_eos_token_id"] = gen.value("forced_eos_token_id", json());
    const json& defs = generation_field_defaults();
    for (auto it = defs.begin(); it != defs.end(); ++it) {
      const json cur = merged.contains(it.key()) ? merged[it.key()] : it.value();
      if (is_default(cur, it.value()) && gen.contains(it.key())) merged[it.key()] = gen[it.key()];
    }
    derived = HFConfig::from_json(merged, c.label());
    src = &derived;
  }
  // An empty model config: read_generate_config then takes `src` alone (no legacy fallback).
  r.config = src == generation_config ? read_generate_config(src, HFConfig::from_json(json::object(), c.label()))
                                      : read_generate_config(nullptr, *src);
  r.num_beams = src->get_int("num_beams", 1);
  IA_CHECK(r.num_beams >= 1, src->label(), ": num_beams must be at least 1, got ", r.num_beams);
  r.num_return_sequences = src->get_int("num_return_sequences", 1);
  r.length_penalty = src->get_float("length_penalty", 1.0);
  if (src->has("early_stopping")) r.early_stopping = src->raw()["early_stopping"];
  return r;
}

}  // namespace ia
