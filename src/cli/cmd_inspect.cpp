#include <iostream>
#include <nlohmann/json.hpp>

#include "backends/cpu/cpu_info.h"
#include "cli/commands.h"
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
    ModelContext ctx = ModelContext::open(*dir);
    j["model_dir"] = *dir;
    j["model_type"] = ctx.model_type;
    j["architecture"] = ctx.architecture;
    const FamilyTemplate* t = find_template(ctx.model_type);
    j["family"] = t ? family_name(t->family) : "unsupported";
    auto model = load_model(*dir);
    j["template"] = model->describe();
    j["tasks"] = model->tasks();
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
                << "parameters:   " << params << "\n"
                << "dtypes:       " << j["dtypes"].dump() << "\n"
                << "tasks:        " << j["tasks"].dump() << "\n"
                << "hardware:     cpu (" << cpu.kernel_isa << ", " << cpu.threads << " threads)\n"
                << "template:\n";
      for (auto it = j["template"].begin(); it != j["template"].end(); ++it)
        std::cout << "  " << it.key() << ": " << it.value().dump() << "\n";
    }
    return 0;
  };
}

}  // namespace ia::cli
