// Dispatcher adapters for the text-in pipelines: text, text2text (encoder-decoder
// generation with beam search), mixture-of-experts and state-space. Each builds
// the pipeline request from the dispatcher request the way `run` always has.
#include <cmath>

#include "core/error.h"
#include "pipelines/moe_pipeline.h"
#include "pipelines/state_space_pipeline.h"
#include "pipelines/task_bindings.h"
#include "pipelines/task_request.h"
#include "pipelines/text2text_pipeline.h"
#include "pipelines/text_pipeline.h"

namespace ia {

using json = nlohmann::json;

namespace {

TextRequest text_request(const json& r, const GenerationSettings& defaults, const TextStream& on_text, Family family) {
  TextRequest req;
  req.top_k = request::label_count(r);
  request::check_family_options(r, family);
  req.task = request::str(r, "task");
  req.inputs = request::text_inputs(r);
  req.generation = defaults;
  request::apply_generation(r, req.generation);
  req.on_text = on_text;
  return req;
}

class TextBound : public BoundPipeline {
 public:
  TextBound(const std::string& dir, Family f) : owned_(std::make_unique<TextPipeline>(dir)), p_(*owned_), family_(f) {}
  TextBound(TextPipeline& p, Family f) : p_(p), family_(f) {}
  json run(const json& r, const TextStream& on_text) override {
    return p_.run(text_request(r, p_.generation_defaults(), on_text, family_));
  }

 private:
  std::unique_ptr<TextPipeline> owned_;
  TextPipeline& p_;
  Family family_;
};

class Text2TextBound : public BoundPipeline {
 public:
  explicit Text2TextBound(const std::string& dir) : p_(dir) {}
  json run(const json& r, const TextStream& on_text) override {
    Text2TextSettings s = p_.defaults();
    TextRequest req = text_request(r, s.generation, on_text, Family::EncoderDecoder);
    s.generation = req.generation;
    const int64_t beams = request::integer(r, "num_beams", 0);
    if (beams > 0) s.num_beams = beams;
    const double lp = request::number(r, "length_penalty", NAN);
    if (!std::isnan(lp)) s.length_penalty = lp;
    if (request::has(r, "early_stopping")) {
      const json& v = r.at("early_stopping");
      const std::string e = v.is_string() ? v.get<std::string>() : v.is_boolean() ? (v.get<bool>() ? "true" : "false") : "?";
      IA_CHECK(e == "true" || e == "false" || e == "never", "--early-stopping must be true, false or never");
      s.early_stopping = early_stopping_from(e == "never" ? json("never") : json(e == "true"));
    }
    const int64_t nrs = request::integer(r, "num_return_sequences", 0);
    if (nrs > 0) s.num_return_sequences = nrs;
    return p_.run(req, s);
  }

 private:
  Text2TextPipeline p_;
};

class MoeBound : public BoundPipeline {
 public:
  explicit MoeBound(const std::string& dir) : p_(dir) {}
  json run(const json& r, const TextStream& on_text) override {
    TextRequest req = text_request(r, p_.generation_defaults(), on_text, Family::MixtureOfExperts);
    return p_.run(req, MoeOptions{request::integer(r, "experts_per_token", 0)});
  }

 private:
  MoePipeline p_;
};

class StateSpaceBound : public BoundPipeline {
 public:
  explicit StateSpaceBound(const std::string& dir) : p_(dir) {}
  json run(const json& r, const TextStream& on_text) override {
    TextRequest req = text_request(r, p_.generation_defaults(), on_text, Family::StateSpace);
    return p_.run(req, StateSpaceOptions{request::integer(r, "chunk_size", 0), request::str(r, "save_state"),
                                         request::str(r, "load_state")});
  }

 private:
  StateSpacePipeline p_;
};

}  // namespace

std::unique_ptr<BoundPipeline> load_text_binding(const std::string& dir, Family family) {
  return std::make_unique<TextBound>(dir, family);
}
std::unique_ptr<BoundPipeline> text_binding_on(TextPipeline& p, Family family) {
  return std::make_unique<TextBound>(p, family);
}
std::unique_ptr<BoundPipeline> load_text2text_binding(const std::string& dir) { return std::make_unique<Text2TextBound>(dir); }
std::unique_ptr<BoundPipeline> load_moe_binding(const std::string& dir) { return std::make_unique<MoeBound>(dir); }
std::unique_ptr<BoundPipeline> load_state_space_binding(const std::string& dir) {
  return std::make_unique<StateSpaceBound>(dir);
}

}  // namespace ia
