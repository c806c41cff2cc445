// Config readers shared by the vision, vision-text and multimodal templates:
// ints that transformers accepts either as a number or as an (h, w) pair, and the
// label count PretrainedConfig derives from id2label.
#pragma once
#include <cstdint>
#include <string>
#include <utility>

#include "formats/hf_config.h"

namespace ia {

// config[key] as (h, w): an int n means (n, n); a two-element list is (h, w).
std::pair<int64_t, int64_t> config_int_pair(const HFConfig& c, const std::string& key, int64_t def);
// len(id2label) when present, else num_labels, else 2 (PretrainedConfig's default).
int64_t config_num_labels(const HFConfig& c);

}  // namespace ia
