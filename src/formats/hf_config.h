// Typed access to config.json / generation_config.json. Getters either take the
// default transformers 4.44.2 uses for a missing key, or fail naming file and field.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace ia {

// Rewrites Python-json extensions (Infinity, -Infinity, NaN) into standard JSON.
std::string python_json_compat(const std::string& text);

class HFConfig {
 public:
  using json = nlohmann::json;
  HFConfig() : j_(json::object()) {}
  static HFConfig load(const std::string& path);
  // Parses config text as load() does (Python-json tokens, object at top, bounded nesting).
  static HFConfig parse(const std::string& text, const std::string& label);
  static HFConfig from_json(json j, std::string label);

  const json& raw() const { return j_; }
  const std::string& label() const { return label_; }
  // Present and not null.
  bool has(const std::string& key) const;

  int64_t get_int(const std::string& key) const;
  int64_t get_int(const std::string& key, int64_t def) const;
  double get_float(const std::string& key) const;
  double get_float(const std::string& key, double def) const;
  bool get_bool(const std::string& key) const;
  bool get_bool(const std::string& key, bool def) const;
  std::string get_string(const std::string& key) const;
  std::string get_string(const std::string& key, const std::string& def) const;
  // Accepts a scalar or a list (eos_token_id is either); empty when missing/null.
  std::vector<int64_t> get_int_list(const std::string& key) const;
  // First present key of several spellings (transformers' attribute_map aliases).
  std::optional<std::string> first_of(std::initializer_list<const char*> keys) const;
  int64_t get_int_any(std::initializer_list<const char*> keys) const;
  int64_t get_int_any(std::initializer_list<const char*> keys, int64_t def) const;
  // Nested object (text_config, vision_config, rope_scaling...); empty config when missing/null.
  HFConfig sub(const std::string& key) const;

 private:
  [[noreturn]] void bad(const std::string& key, const char* want) const;
  json j_;
  std::string label_;
};

}  // namespace ia
