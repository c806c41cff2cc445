#include "pipelines/multimodal_pipeline.h"

#include "core/error.h"
#include "pipelines/pipeline_result.h"
#include "templates/multimodal/llava_model.h"
#include "tokenizers/tokenizer.h"

namespace ia {

using json = nlohmann::json;

// The conversation LlavaProcessor users build: one user turn holding the image and the question,
// rendered by the tokenizer's chat template when it has one (then tokenized with special tokens,
// as processor(text=prompt) does), else the llava-1.5 prompt format.
std::string llava_prompt(const Tokenizer& tok, const std::string& question) {
  if (tok.chat_template.empty() && tok.chat_templates.empty()) return "USER: <image>\n" + question + " ASSISTANT:";
  json messages = json::array();
  messages.push_back({{"role", "user"},
                      {"content", json::array({json{{"type", "image"}}, json{{"type", "text"}, {"text", question}}})}});
  return tok.apply_chat_template_json(messages.dump(), /*add_generation_prompt=*/true);
}

MultimodalPipeline::MultimodalPipeline(const std::string& model_dir) : dir_(model_dir) {
  ctx_ = ModelContext::open(model_dir);
  model_ = load_model(model_dir);
  proc_ = ImageProcessor::from_dir(model_dir);
}

json MultimodalPipeline::run(const VisionRequest& req) {
  try {
    const std::string task = choose_task(req.task, model_->tasks(), model_->model_type());
    IA_CHECK(task == "image-text-to-text", model_->model_type(), ": task '", task,
             "' is not served by the multimodal pipeline (use image-text-to-text)");
    IA_CHECK(req.images.size() == 1, "image-text-to-text takes exactly one image, got ", req.images.size());
    const std::string question = req.prompt.empty() ? "What is shown in the image?" : req.prompt;
    Tokenizer tok = Tokenizer::from_dir(dir_);
    const std::string prompt = llava_prompt(tok, question);
    Encoding enc = tok.encode(prompt, true);
    const int64_t image_token = ctx_.config.get_int("image_token_index", 32000);
    int64_t n_image = 0;
    std::vector<int64_t> ids(enc.ids.begin(), enc.ids.end());
    for (int64_t id : ids) n_image += id == image_token;
    IA_CHECK(n_image == 1, dir_, ": the tokenizer turns '<image>' into ", n_image,
             " tokens with id image_token_index (", image_token, "); expected exactly 1");
    auto* decoder = dynamic_cast<StepDecoder*>(model_.get());
    auto* image_prompt = dynamic_cast<ImagePromptDecoder*>(model_.get());
    IA_CHECK(decoder && image_prompt, model_->model_type(), ": the model cannot decode from an image prompt");
    GenerationSettings g = req.generation ? *req.generation : generation_defaults(ctx_.generation_config, ctx_.config);
    if (req.max_new_tokens >= 0) g.max_new_tokens = req.max_new_tokens;
    if (g.eos_token_ids.empty()) g.eos_token_ids = image_prompt->generation_eos_ids();
    g.add_special_tokens = true;  // processor(text=prompt) adds BOS
    image_prompt->set_prompt_image(load_pixel_values(proc_, req.images));
    GenerationOutput out = generate_text(*decoder, tok, prompt, g, req.on_text);
    json r = success_result("generated_text", out.text);
    r["task"] = task;
    r["prompt"] = prompt;
    r["new_token_ids"] = out.new_ids;
    r["finish_reason"] = out.finish_reason;
    r["decoding"] = g.sampling.do_sample ? "sample" : "greedy";
    return r;
  } catch (const std::exception& e) {
    return error_result(e.what());
  }
}

}  // namespace ia
