#include "formats/hf_config.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>

#include "core/error.h"

namespace ia {

// Python's json module writes Infinity, -Infinity and NaN (e.g. Mamba-2's time_step_limit);
// rewrite those bare tokens outside strings into forms nlohmann::json accepts.
std::string python_json_compat(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool in_str = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_str) {
      out.push_back(c);
      if (c == '\\' && i + 1 < text.size()) out.push_back(text[++i]);
      else if (c == '"') in_str = false;
      continue;
    }
    if (c == '"') in_str = true;
    if (text.compare(i, 8, "Infinity") == 0) {
      out += "1.7976931348623157e308";  // DBL_MAX stands in for infinity
      i += 7;
    } else if (text.compare(i, 3, "NaN") == 0) {
      out += "null";
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

HFConfig HFConfig::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  IA_CHECK(in.good(), path, ": cannot open");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse(text, path);
}

HFConfig HFConfig::parse(const std::string& text, const std::string& label) {
  // Copying or printing a json value recurses once per nesting level, so absurdly deep
  // input could overflow the stack later on; real configs nest a handful of levels.
  constexpr int kMaxDepth = 64;
  int deepest = 0;
  json::parser_callback_t cb = [&](int depth, json::parse_event_t, json&) {
    deepest = std::max(deepest, depth);
    return true;
  };
  json j;
  try {
    j = json::parse(python_json_compat(text), cb);
  } catch (const json::exception& e) {
    fail(label, ": malformed JSON: ", e.what());
  }
  IA_CHECK(deepest <= kMaxDepth, label, ": JSON nested more than ", kMaxDepth, " levels deep");
  IA_CHECK(j.is_object(), label, ": top level is not a JSON object");
  return from_json(std::move(j), label);
}

HFConfig HFConfig::from_json(json j, std::string label) {
  HFConfig c;
  c.j_ = j.is_object() ? std::move(j) : json::object();
  c.label_ = std::move(label);
  return c;
}

bool HFConfig::has(const std::string& key) const { return j_.contains(key) && !j_[key].is_null(); }

namespace {
// The offending value for an error message: scalars verbatim, containers only by size,
// so a huge or deeply nested value can neither flood the message nor recurse deeply.
std::string value_repr(const nlohmann::json& v) {
  if (v.is_array()) return cat("a list of ", v.size(), " entries");
  if (v.is_object()) return cat("an object with ", v.size(), " fields");
  std::string s = v.dump();
  return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}
}  // namespace

void HFConfig::bad(const std::string& key, const char* want) const {
  if (!has(key)) fail(label_, ": missing required field '", key, "'");
  fail(label_, ": field '", key, "' must be ", want, " (got ", value_repr(j_[key]), ")");
}

int64_t HFConfig::get_int(const std::string& key) const {
  if (!has(key)) bad(key, "an integer");
  const json& v = j_[key];
  if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)) bad(key, "an integer");
  if (v.is_number_integer()) return v.get<int64_t>();
  // Whole floats (4.0) count; the range check comes first because converting an
  // out-of-range double (1e20, Infinity) to int64 is undefined behaviour.
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (d >= -9.2e18 && d <= 9.2e18 && std::trunc(d) == d) return int64_t(d);
  }
  bad(key, "an integer");
}
int64_t HFConfig::get_int(const std::string& key, int64_t def) const { return has(key) ? get_int(key) : def; }

double HFConfig::get_float(const std::string& key) const {
  if (!has(key) || !j_[key].is_number()) bad(key, "a number");
  return j_[key].get<double>();
}
double HFConfig::get_float(const std::string& key, double def) const { return has(key) ? get_float(key) : def; }

bool HFConfig::get_bool(const std::string& key) const {
  if (!has(key) || !j_[key].is_boolean()) bad(key, "true or false");
  return j_[key].get<bool>();
}
bool HFConfig::get_bool(const std::string& key, bool def) const { return has(key) ? get_bool(key) : def; }

std::string HFConfig::get_string(const std::string& key) const {
  if (!has(key) || !j_[key].is_string()) bad(key, "a string");
  return j_[key].get<std::string>();
}
std::string HFConfig::get_string(const std::string& key, const std::string& def) const {
  return has(key) ? get_string(key) : def;
}

std::vector<int64_t> HFConfig::get_int_list(const std::string& key) const {
  std::vector<int64_t> r;
  if (!has(key)) return r;
  const json& v = j_[key];
  if (v.is_number_integer()) return {get_int(key)};
  if (!v.is_array()) bad(key, "an integer or a list of integers");
  for (const auto& e : v) {
    if (!e.is_number_integer() || (e.is_number_unsigned() && e.get<uint64_t>() > uint64_t(INT64_MAX)))
      bad(key, "an integer or a list of integers");
    r.push_back(e.get<int64_t>());
  }
  return r;
}

std::optional<std::string> HFConfig::first_of(std::initializer_list<const char*> keys) const {
  for (const char* k : keys)
    if (has(k)) return std::string(k);
  return std::nullopt;
}

int64_t HFConfig::get_int_any(std::initializer_list<const char*> keys) const {
  if (auto k = first_of(keys)) return get_int(*k);
  std::string names;
  for (const char* k : keys) names += cat(names.empty() ? "" : " / ", "'", k, "'");
  fail(label_, ": missing required field ", names);
}
int64_t HFConfig::get_int_any(std::initializer_list<const char*> keys, int64_t def) const {
  if (auto k = first_of(keys)) return get_int(*k);
  return def;
}

HFConfig HFConfig::sub(const std::string& key) const {
  if (!has(key)) return from_json(json::object(), label_ + ":" + key);
  if (!j_[key].is_object()) bad(key, "an object");
  return from_json(j_[key], label_ + ":" + key);
}

}  // namespace ia
