#include "pipelines/pipeline_result.h"

#include "backends/hardware.h"
#include "backends/cpu/cpu_info.h"

namespace ia {

nlohmann::json hardware_json() {
  const auto& c = cpu::cpu_info();
  return {{"template", "cpu"}, {"name", c.model_name}, {"isa", c.kernel_isa}, {"threads", c.threads}};
}

nlohmann::json success_result(const std::string& key, nlohmann::json payload) {
  return {{"success", true}, {key, std::move(payload)}, {"device", "cpu"}, {"hardware", hardware_json()}};
}

nlohmann::json error_result(const std::string& message) {
  return {{"success", false}, {"error", message}, {"device", "cpu"}, {"hardware", hardware_json()}};
}

}  // namespace ia
