#include "templates/diffusion/diffusers_component.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace ia::diffusion {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string diffusers_class_name(const std::string& dir) {
  const fs::path p = fs::path(dir) / "config.json";
  if (!fs::exists(p)) return "";
  try {
    const HFConfig cfg = HFConfig::load(p.string());
    const auto& j = cfg.raw();
    auto it = j.find("_class_name");
    if (it == j.end() || !it->is_string()) return "";
    return it->get<std::string>();
  } catch (const std::exception&) {
    return "";
  }
}

HFConfig load_component_config(const std::string& dir, const std::string& expected_class) {
  const fs::path p = fs::path(dir) / "config.json";
  IA_CHECK(fs::exists(p), p.string(), ": not found (a diffusers ", expected_class, " directory needs config.json)");
  HFConfig cfg = HFConfig::load(p.string());
  const std::string cls = cfg.get_string("_class_name", "");
  IA_CHECK(cls == expected_class, p.string(), ": field _class_name is '", cls, "', expected '", expected_class, "'");
  return cfg;
}

std::shared_ptr<const Checkpoint> open_component_weights(const std::string& dir) {
  const fs::path d(dir);
  for (const char* stem : {"diffusion_pytorch_model", "diffusion_pytorch_model.fp16", "model"}) {
    const fs::path single = d / (std::string(stem) + ".safetensors");
    if (fs::exists(single)) return Checkpoint::open_files({single.string()});
    const fs::path index = d / (std::string(stem) + ".safetensors.index.json");
    if (fs::exists(index)) {
      json j;
      try {
        std::ifstream in(index);
        j = json::parse(in);
      } catch (const std::exception& e) {
        fail(index.string(), ": invalid JSON: ", e.what());
      }
      IA_CHECK(j.contains("weight_map") && j["weight_map"].is_object(), index.string(),
               ": field weight_map missing or not an object");
      std::vector<std::string> files;
      for (const auto& [name, file] : j["weight_map"].items()) {
        IA_CHECK(file.is_string(), index.string(), ": weight_map entry ", name, " is not a file name");
        const std::string f = (d / file.get<std::string>()).string();
        if (std::find(files.begin(), files.end(), f) == files.end()) files.push_back(f);
      }
      IA_CHECK(!files.empty(), index.string(), ": weight_map is empty");
      return Checkpoint::open_files(files);
    }
  }
  fail(dir, ": no diffusion_pytorch_model.safetensors (or .fp16 / sharded index) found");
}

std::vector<int64_t> int_per_block(const HFConfig& cfg, const std::string& key, size_t n, int64_t def) {
  const json& j = cfg.raw();
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::vector<int64_t>(n, def);
  if (it->is_number_integer()) return std::vector<int64_t>(n, it->get<int64_t>());
  IA_CHECK(it->is_array(), cfg.label(), ": field ", key, " must be an integer or a list of integers");
  IA_CHECK(it->size() == n, cfg.label(), ": field ", key, " has ", it->size(), " entries, expected one per block (",
           n, ")");
  std::vector<int64_t> r;
  for (const auto& e : *it) {
    IA_CHECK(e.is_number_integer(), cfg.label(), ": field ", key, " must hold integers (nested lists are not supported)");
    r.push_back(e.get<int64_t>());
  }
  return r;
}

std::vector<bool> bool_per_block(const HFConfig& cfg, const std::string& key, size_t n, bool def) {
  const json& j = cfg.raw();
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::vector<bool>(n, def);
  if (it->is_boolean()) return std::vector<bool>(n, it->get<bool>());
  IA_CHECK(it->is_array() && it->size() == n, cfg.label(), ": field ", key,
           " must be a boolean or a list of one boolean per block (", n, ")");
  std::vector<bool> r;
  for (const auto& e : *it) {
    IA_CHECK(e.is_boolean(), cfg.label(), ": field ", key, " must hold booleans");
    r.push_back(e.get<bool>());
  }
  return r;
}

std::vector<std::string> string_list(const HFConfig& cfg, const std::string& key) {
  const json& j = cfg.raw();
  auto it = j.find(key);
  IA_CHECK(it != j.end() && it->is_array() && !it->empty(), cfg.label(), ": field ", key,
           " must be a non-empty list of strings");
  std::vector<std::string> r;
  for (const auto& e : *it) {
    IA_CHECK(e.is_string(), cfg.label(), ": field ", key, " must hold strings");
    r.push_back(e.get<std::string>());
  }
  return r;
}

std::vector<int64_t> int_list(const HFConfig& cfg, const std::string& key) {
  const json& j = cfg.raw();
  auto it = j.find(key);
  IA_CHECK(it != j.end() && it->is_array() && !it->empty(), cfg.label(), ": field ", key,
           " must be a non-empty list of integers");
  std::vector<int64_t> r;
  for (const auto& e : *it) {
    IA_CHECK(e.is_number_integer() && e.get<int64_t>() > 0, cfg.label(), ": field ", key,
             " must hold positive integers");
    r.push_back(e.get<int64_t>());
  }
  return r;
}

}  // namespace ia::diffusion
