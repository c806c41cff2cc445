#include "pipelines/task_dispatch.h"

#include "core/error.h"
#include "pipelines/pipeline_result.h"
#include "pipelines/stable_diffusion_task.h"
#include "pipelines/task_bindings.h"
#include "pipelines/task_request.h"
#include "templates/model.h"

namespace ia {

using json = nlohmann::json;

namespace {
// The dispatch model type of a diffusers Stable Diffusion directory (not a transformers model_type).
constexpr const char* kStableDiffusion = "stable-diffusion";
bool is(const DispatchTarget& t, Family f) { return t.family == f; }
bool task_in(const std::string& task, std::initializer_list<const char*> tasks) {
  for (const char* x : tasks)
    if (task == x) return true;
  return false;
}
// Result-count pipelines: --labels is a count.
void counts(const json& r, const DispatchTarget&) { request::label_count(r); }
// Text-in pipelines: a count, and no options of another family.
void text_options(const json& r, const DispatchTarget& t) {
  request::label_count(r);
  request::check_family_options(r, t.family);
}
}  // namespace

const std::vector<PipelineBinding>& pipeline_bindings() {
  using T = const DispatchTarget&;
  using Dir = const std::string&;
  // First match wins: model-type specific pipelines before their family's.
  static const std::vector<PipelineBinding> b = {
      {"stable-diffusion", "diffusion", [](T t) { return t.model_type == kStableDiffusion; },
       [](Dir d, T) { return load_stable_diffusion_binding(d); }},
      {"rag", "rag", [](T t) { return is(t, Family::Rag); }, [](Dir d, T) { return load_rag_binding(d); }, text_options},
      {"audio", "audio", [](T t) { return is(t, Family::Speech); },
       [](Dir d, T) { return load_audio_binding(d); }, counts},
      {"mask-generation", "diffusion",
       [](T t) { return t.model_type == "sam" && task_in(t.task, {"", "mask-generation"}); },
       [](Dir d, T) { return load_mask_generation_binding(d); }},
      {"captioning", "vision-text",
       [](T t) { return t.model_type == "blip" && task_in(t.task, {"", "image-to-text", "visual-question-answering"}); },
       [](Dir d, T) { return load_captioning_binding(d); }},
      {"image", "image", [](T t) { return is(t, Family::Vision); },
       [](Dir d, T t) { return load_image_family_binding(d, t.family); }, counts},
      {"vision-text", "vision-text", [](T t) { return is(t, Family::VisionText); },
       [](Dir d, T t) { return load_image_family_binding(d, t.family); }, counts},
      {"multimodal", "multimodal", [](T t) { return is(t, Family::Multimodal); },
       [](Dir d, T t) { return load_image_family_binding(d, t.family); }, counts},
      {"moe", "moe", [](T t) { return is(t, Family::MixtureOfExperts); },
       [](Dir d, T) { return load_moe_binding(d); }, text_options},
      {"state-space", "state-space", [](T t) { return is(t, Family::StateSpace); },
       [](Dir d, T) { return load_state_space_binding(d); }, text_options},
      {"text2text", "text", [](T t) { return is(t, Family::EncoderDecoder) && t.task != "feature-extraction"; },
       [](Dir d, T) { return load_text2text_binding(d); }, text_options},
      // Everything else (and directories whose config cannot be read: the text
      // pipeline reports what is wrong with them).
      {"text", "text", [](T) { return true; }, [](Dir d, T t) { return load_text_binding(d, t.family); }, text_options},
  };
  return b;
}

const PipelineBinding* binding_for(const DispatchTarget& t) {
  for (const auto& b : pipeline_bindings())
    if (b.serves(t)) return &b;
  return nullptr;
}

TaskDispatcher::TaskDispatcher(std::string model_dir) : dir_(std::move(model_dir)) {}
TaskDispatcher::~TaskDispatcher() = default;

const PipelineBinding& TaskDispatcher::resolve(const std::string& task) {
  if (!opened_) {
    opened_ = true;
    try {
      if (is_stable_diffusion_dir(dir_)) {  // diffusers layout: model_index.json, no config.json
        model_ = {kStableDiffusion, Family::Diffusion, ""};
      } else {
        model_.model_type = ModelContext::open(dir_).model_type;
        const FamilyTemplate* t = find_template(model_.model_type);
        model_.family = t ? t->family : Family::Other;
      }
    } catch (const std::exception&) {
      model_ = DispatchTarget{};  // unreadable: the fallback pipeline names the problem
    }
  }
  DispatchTarget t = model_;
  t.task = task;
  const PipelineBinding* b = binding_for(t);
  IA_CHECK(b, dir_, ": no pipeline serves task '", task, "' of model type '", model_.model_type, "'");
  return *b;
}

std::string TaskDispatcher::binding_name(const std::string& task) {
  try {
    return resolve(task).name;
  } catch (const std::exception&) {
    return "";
  }
}

void TaskDispatcher::adopt(const std::string& name, std::unique_ptr<BoundPipeline> p) { loaded_[name] = std::move(p); }

json TaskDispatcher::run(const json& request, const TextStream& on_text) {
  try {
    IA_CHECK(request.is_object(), "request: expected a JSON object");
    const std::string task = request.contains("task") && request["task"].is_string() ? request["task"].get<std::string>() : "";
    const PipelineBinding& b = resolve(task);
    auto& slot = loaded_[b.name];
    if (b.validate) b.validate(request, model_);
    if (!slot) slot = b.load(dir_, model_);
    return slot->run(request, on_text);
  } catch (const std::exception& e) {
    return error_result(e.what());
  }
}

json dispatch_task(const std::string& model_dir, const json& request, const TextStream& on_text) {
  TaskDispatcher d(model_dir);
  return d.run(request, on_text);
}

}  // namespace ia
