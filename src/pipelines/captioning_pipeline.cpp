#include "pipelines/captioning_pipeline.h"

#include <algorithm>
#include <iostream>
#include <iterator>

#include "core/error.h"
#include "pipelines/pipeline_result.h"
#include "preprocess/image.h"
#include "preprocess/image_processor.h"

namespace ia {

namespace {

// BlipTextLMHeadModel's own generation config is built from text_config, so its
// max_length stays at the GenerationConfig default (prompt included).
constexpr int64_t kDecoderMaxLength = 20;

Image load_image(const std::string& src) {
  if (src != "-") return decode_image_file(src);
  std::string bytes((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  return decode_image_bytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "stdin");
}

}  // namespace

CaptioningPipeline::CaptioningPipeline(const std::string& model_dir) : dir_(model_dir) {}
CaptioningPipeline::~CaptioningPipeline() = default;

nlohmann::json CaptioningPipeline::run(const CaptionRequest& req) {
  try {
    return run_or_throw(req);
  } catch (const std::exception& e) {
    return error_result(e.what());
  }
}

nlohmann::json CaptioningPipeline::run_or_throw(const CaptionRequest& req) {
  if (!model_) model_ = load_model(dir_);
  const auto tasks = model_->tasks();
  const bool vqa = std::find(tasks.begin(), tasks.end(), "visual-question-answering") != tasks.end();
  IA_CHECK(vqa || std::find(tasks.begin(), tasks.end(), "image-to-text") != tasks.end(), dir_,
           ": image-to-text needs a captioning head (BlipForConditionalGeneration), visual-question-answering "
           "BlipForQuestionAnswering; this model does: ",
           tasks.empty() ? std::string("nothing") : tasks.front());
  if (!tok_) tok_ = std::make_unique<Tokenizer>(Tokenizer::from_dir(dir_));
  const ImageProcessor proc = ImageProcessor::from_dir(dir_);
  TensorMap in{{"pixel_values", proc.preprocess(load_image(req.image))}};
  int64_t prompt_len = 1;  // generate() starts from [bos] when no prompt is given
  if (vqa) {
    // The question goes to the question encoder; the answer is decoded from [bos].
    IA_CHECK(!req.prompt.empty(), "visual-question-answering: give the question (--prompt)");
    Encoding enc = tok_->encode(req.prompt, true);
    std::vector<int64_t> ids(enc.ids.begin(), enc.ids.end());
    in["input_ids"] = Tensor::from_vector_i64(ids, {1, int64_t(ids.size())});
  } else if (!req.prompt.empty()) {
    Encoding enc = tok_->encode(req.prompt, true);
    std::vector<int64_t> ids(enc.ids.begin(), enc.ids.end());
    IA_CHECK(ids.size() >= 2, "image-to-text: the prompt '", req.prompt, "' tokenizes to fewer than 2 tokens");
    prompt_len = int64_t(ids.size()) - 1;  // generate() drops the trailing [SEP]
    in["input_ids"] = Tensor::from_vector_i64(ids, {1, int64_t(ids.size())});
  }
  GenerateOptions opts;
  opts.max_new_tokens = req.max_new_tokens ? *req.max_new_tokens : std::max<int64_t>(0, kDecoderMaxLength - prompt_len);
  opts.return_step_logits = false;
  TensorMap out = model_->generate(in, opts);
  const Tensor& seq = out.at("sequences");
  std::vector<uint32_t> ids;
  for (int64_t i = 0; i < seq.dim(1); ++i) ids.push_back(uint32_t(seq.i64()[i]));
  const std::string text = tok_->decode(ids, true);
  if (vqa) return success_result("visual_qa", nlohmann::json::array({{{"answer", text}, {"token_ids", ids}}}));
  nlohmann::json item = {{"generated_text", text}, {"token_ids", ids}};
  return success_result("caption", nlohmann::json::array({item}));
}

}  // namespace ia
