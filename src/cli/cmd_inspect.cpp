#include <iostream>
#include <nlohmann/json.hpp>

#include "backends/cpu/cpu_info.h"
#include "cli/commands.h"
#include "registry/detect.h"
#include "templates/model.h"

namespace ia::cli {

Action add_inspect(CLI::App& app) {
  auto* cmd = app.add_subcommand("inspect", "Describe a model directory: type, family, template parameters, weights");
  auto dir = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  cmd->add_option("model_dir", *dir, "Hugging Face model directory")->required();
  cmd->add_flag("--json", *as_json, "Print JSON");
  return [dir, as_json]() {
    nlohmann::json j;
    // Registry detection first: it knows every transformers model type, so an
    // unsupported one is still described (only an invalid directory throws).
    Detection det = detect_from_dir(*dir);
    j["model_dir"] = *dir;
    j["model_type"] = det.model_type;
    j["architecture"] = det.architecture;
    j["family"] = det.family_known ? family_name(det.family) : "unknown";
    j["status"] = det.supported() ? "supported" : "unsupported";
    j["registry"] = {{"in_transformers_4_44_2", det.info != nullptr},
                     {"display_name", det.info ? det.info->display_name : ""},
                     {"default_task", det.task},
                     {"note", det.info ? det.info->note : ""}};
    if (det.supported()) {
      const FamilyTemplate* t = find_template(det.model_type);
      if (t->family != det.family) j["template_family"] = family_name(t->family);
      auto model = load_model(*dir);
      j["template"] = model->describe();
      j["tasks"] = model->tasks();
    } else {
      j["template"] = nullptr;
      j["tasks"] = det.task.empty() ? nlohmann::json::array() : nlohmann::json::array({det.task});
    }
    // Parameter count and dtypes straight from the checkpoint.
    auto ck = Checkpoint::open_dir(*dir);
    int64_t params = 0;
    std::map<std::string, int64_t> dtypes;
    for (const auto& n : ck->names()) {
      const auto& ti = ck->info(n);
      params += shape_numel(ti.shape);
      dtypes[dtype_name(ti.dtype)] += shape_numel(ti.shape);
    }
    j["parameters"] = params;
    j["dtypes"] = dtypes;
    const auto& cpu = cpu::cpu_info();
    j["hardware"] = {{"template", "cpu"}, {"isa", cpu.kernel_isa}, {"threads", cpu.threads}, {"cpu", cpu.model_name}};
    if (*as_json) {
      std::cout << j.dump(2) << std::endl;
    } else {
      std::cout << "model_type:   " << j["model_type"].get<std::string>() << "\n"
                << "architecture: " << j["architecture"].get<std::string>() << "\n"
                << "family:       " << j["family"].get<std::string>() << "\n"
                << "status:       "
                << (det.supported() ? "supported"
                                    : "UNSUPPORTED by this build (no architecture template implements this model type)")
                << "\n"
                << "parameters:   " << params << "\n"
                << "dtypes:       " << j["dtypes"].dump() << "\n"
                << "tasks:        " << j["tasks"].dump() << "\n"
                << "hardware:     cpu (" << cpu.kernel_isa << ", " << cpu.threads << " threads)\n"
                << "template:" << (det.supported() ? "" : " none") << "\n";
      if (det.supported())
        for (auto it = j["template"].begin(); it != j["template"].end(); ++it)
          std::cout << "  " << it.key() << ": " << it.value().dump() << "\n";
    }
    return 0;
  };
}

}  // namespace ia::cli
