#include "templates/vision/vision_config.h"

#include "core/error.h"

namespace ia {

std::pair<int64_t, int64_t> config_int_pair(const HFConfig& c, const std::string& key, int64_t def) {
  if (!c.has(key)) return {def, def};
  const auto& v = c.raw()[key];
  if (v.is_number_integer()) return {v.get<int64_t>(), v.get<int64_t>()};
  IA_CHECK(v.is_array() && v.size() == 2 && v[0].is_number_integer() && v[1].is_number_integer(), c.label(), ": field '",
           key, "' must be an integer or a list of two integers");
  return {v[0].get<int64_t>(), v[1].get<int64_t>()};
}

int64_t config_num_labels(const HFConfig& c) {
  if (c.has("id2label") && c.raw()["id2label"].is_object()) return int64_t(c.raw()["id2label"].size());
  return c.get_int("num_labels", 2);
}

}  // namespace ia
