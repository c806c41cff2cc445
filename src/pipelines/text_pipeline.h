// The text pipeline template: text in, the task's result JSON out.
// Tasks: text-generation (decoders), feature-extraction (mean-pooled hidden
// states), fill-mask, text-classification (encoders with those heads).
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pipelines/text_generation.h"
#include "templates/model.h"
#include "tokenizers/tokenizer.h"

namespace ia {

struct TextRequest {
  std::string task;                 // empty = the model's first task
  std::vector<std::string> inputs;  // one or more texts
  GenerationSettings generation;    // text-generation
  int64_t top_k = 5;                // fill-mask / text-classification: how many labels to return
  std::function<void(const std::string&)> on_text;  // streaming of generated text (first input only)
};

class TextPipeline {
 public:
  // Loads model and tokenizer from a Hugging Face directory (errors name the missing file).
  explicit TextPipeline(const std::string& model_dir);
  TextPipeline(std::unique_ptr<Model> model, Tokenizer tok, ModelContext ctx);

  // Never throws: failures become {"success": false, "error": ...}.
  nlohmann::json run(const TextRequest& req);
  // Defaults for generation from generation_config.json / config.json.
  GenerationSettings generation_defaults() const;
  Model& model() { return *model_; }
  const Tokenizer& tokenizer() const { return tok_; }

 private:
  nlohmann::json generate(const TextRequest& req);
  nlohmann::json embed(const TextRequest& req);
  nlohmann::json fill_mask(const TextRequest& req);
  nlohmann::json classify(const TextRequest& req);
  // Right-padded batch of the inputs: input_ids / attention_mask [B, T].
  TensorMap encode_batch(const std::vector<std::string>& texts) const;
  std::string label_of(int64_t i) const;

  ModelContext ctx_;
  std::unique_ptr<Model> model_;
  Tokenizer tok_;
};

}  // namespace ia
