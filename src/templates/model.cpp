#include "templates/model.h"

#include <filesystem>

#include "core/error.h"
#include "formats/weight_placement.h"

namespace ia {

namespace fs = std::filesystem;

ModelContext ModelContext::open(const std::string& dir) {
  ModelContext c;
  c.dir = dir;
  fs::path cfg = fs::path(dir) / "config.json";
  IA_CHECK(fs::exists(cfg), dir, ": no config.json (is this a Hugging Face model directory?)");
  c.config = HFConfig::load(cfg.string());
  // diffusers components (UNet, VAE, ...) name their class instead of a model_type:
  // a format this build does not run yet, not a malformed transformers config.
  if (!c.config.has("model_type") && c.config.has("_class_name") && c.config.raw()["_class_name"].is_string())
    throw Unsupported(cat(c.config.label(), ": diffusers component '", c.config.raw()["_class_name"].get<std::string>(),
                          "' is not supported by this build (diffusion models are not implemented yet)"));
  c.model_type = c.config.get_string("model_type");
  auto archs = c.config.raw().value("architectures", nlohmann::json::array());
  if (archs.is_array() && !archs.empty() && archs[0].is_string()) c.architecture = archs[0].get<std::string>();
  fs::path gen = fs::path(dir) / "generation_config.json";
  if (fs::exists(gen)) c.generation_config = HFConfig::load(gen.string());
  return c;
}

std::unique_ptr<Model> load_model(const std::string& dir) {
  ModelContext ctx = ModelContext::open(dir);
  const FamilyTemplate* t = find_template(ctx.model_type);
  if (!t) {
    std::string list;
    for (const auto& m : supported_model_types()) list += (list.empty() ? "" : ", ") + m;
    throw Unsupported(cat(ctx.config.label(), ": model_type '", ctx.model_type,
                          "' is not supported by this build; supported model types: ", list));
  }
  auto ck = Checkpoint::open_dir(dir);
  Model::WeightMemory mem;
  mem.placement = place_weights(*ck, default_placement());
  for (const auto& f : ck->files()) {
    mem.bytes += f->size();
    mem.huge_page_bytes += f->huge_page_bytes();
  }
  ctx.checkpoint = std::move(ck);
  std::unique_ptr<Model> m = t->build(ctx);
  m->set_weight_memory(mem);
  return m;
}

TensorMap Model::generate(const TensorMap&, const GenerateOptions&) {
  throw Unsupported(cat(model_type(), ": generation is not implemented for this model"));
}

TensorMap Model::run_case(const std::string& case_name, const TensorMap&, const nlohmann::json&) {
  throw Unsupported(cat(model_type(), ": reference case '", case_name, "' is not implemented"));
}

const Tensor& require_input(const TensorMap& in, const std::string& name, const std::string& model) {
  auto it = in.find(name);
  IA_CHECK(it != in.end(), model, ": missing input '", name, "'");
  return it->second;
}

const Tensor* optional_input(const TensorMap& in, const std::string& name) {
  auto it = in.find(name);
  return it == in.end() ? nullptr : &it->second;
}

}  // namespace ia
