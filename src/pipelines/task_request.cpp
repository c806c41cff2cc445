#include "pipelines/task_request.h"

#include <fstream>
#include <iterator>

#include "core/error.h"

namespace ia::request {

using json = nlohmann::json;

bool has(const json& r, const char* key) { return r.is_object() && r.contains(key) && !r.at(key).is_null(); }

std::string str(const json& r, const char* key, const std::string& def) {
  if (!has(r, key)) return def;
  IA_CHECK(r.at(key).is_string(), "request: '", key, "' must be a string");
  return r.at(key).get<std::string>();
}

int64_t integer(const json& r, const char* key, int64_t def) {
  if (!has(r, key)) return def;
  const json& v = r.at(key);
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) {  // counts given on a command line
    const std::string s = v.get<std::string>();
    size_t used = 0;
    int64_t x = 0;
    try {
      x = std::stoll(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    IA_CHECK(!s.empty() && used == s.size(), "request: '", key, "' must be an integer, got '", s, "'");
    return x;
  }
  fail("request: '", key, "' must be an integer");
}

double number(const json& r, const char* key, double def) {
  if (!has(r, key)) return def;
  IA_CHECK(r.at(key).is_number(), "request: '", key, "' must be a number");
  return r.at(key).get<double>();
}

bool flag(const json& r, const char* key) {
  if (!has(r, key)) return false;
  IA_CHECK(r.at(key).is_boolean(), "request: '", key, "' must be true or false");
  return r.at(key).get<bool>();
}

std::vector<std::string> strings(const json& r, const char* key) {
  std::vector<std::string> out;
  if (!has(r, key)) return out;
  const json& v = r.at(key);
  if (v.is_string()) {
    if (!v.get<std::string>().empty()) out.push_back(v.get<std::string>());
    return out;
  }
  IA_CHECK(v.is_array(), "request: '", key, "' must be a string or a list of strings");
  for (const auto& e : v) {
    IA_CHECK(e.is_string(), "request: every entry of '", key, "' must be a string");
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::vector<std::string> comma_list(const json& r, const char* key) {
  if (has(r, key) && r.at(key).is_array()) return strings(r, key);
  const std::string s = str(r, key);
  std::vector<std::string> out;
  for (size_t at = 0; !s.empty() && at <= s.size();) {
    size_t comma = s.find(',', at);
    if (comma == std::string::npos) comma = s.size();
    std::string item = s.substr(at, comma - at);
    if (!item.empty()) out.push_back(item);
    at = comma + 1;
  }
  return out;
}

int64_t label_count(const json& r) {
  if (!has(r, "labels")) return 5;
  const json& v = r.at("labels");
  const std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  size_t used = 0;
  int64_t n = -1;
  try {
    n = std::stoll(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  IA_CHECK(!s.empty() && used == s.size() && n >= 0, "--labels: expected a count, got '", s, "'");
  return n;
}

std::vector<std::string> text_inputs(const json& r) {
  std::vector<std::string> out = strings(r, "inputs");
  const std::string file = str(r, "input_file");
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    IA_CHECK(in.good(), file, ": cannot open");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const bool is_json = file.size() > 5 && file.compare(file.size() - 5, 5, ".json") == 0;
    if (!is_json) {
      out.push_back(text);
    } else {
      json j;
      try {
        j = json::parse(text);
      } catch (const std::exception& e) {
        fail(file, ": malformed JSON: ", e.what());
      }
      if (j.is_object() && j.contains("inputs")) j = j["inputs"];
      if (j.is_string()) {
        out.push_back(j.get<std::string>());
      } else if (j.is_array()) {
        for (const auto& e : j) {
          IA_CHECK(e.is_string(), file, ": every input must be a string");
          out.push_back(e.get<std::string>());
        }
      } else {
        fail(file, ": expected a string, a list of strings or {\"inputs\": ...}");
      }
    }
  }
  IA_CHECK(!out.empty(), "no input: give --input TEXT or --input-file FILE");
  return out;
}

std::vector<std::string> path_inputs(const json& r) {
  std::vector<std::string> out = strings(r, "inputs");
  const std::string file = str(r, "input_file");
  if (!file.empty()) out.push_back(file);
  return out;
}

void apply_generation(const json& r, GenerationSettings& g) {
  if (has(r, "max_new_tokens")) {
    const int64_t n = integer(r, "max_new_tokens", -1);
    if (n >= 0) g.max_new_tokens = n;
  }
  if (flag(r, "do_sample")) g.sampling.do_sample = true;
  if (flag(r, "greedy")) g.sampling.do_sample = false;
  g.sampling.temperature = float(number(r, "temperature", g.sampling.temperature));
  g.sampling.top_k = integer(r, "top_k", g.sampling.top_k);
  g.sampling.top_p = float(number(r, "top_p", g.sampling.top_p));
  g.sampling.min_p = float(number(r, "min_p", g.sampling.min_p));
  g.sampling.repetition_penalty = float(number(r, "repetition_penalty", g.sampling.repetition_penalty));
  const int64_t seed = integer(r, "seed", 0);
  IA_CHECK(seed >= 0, "request: 'seed' must not be negative");
  g.sampling.seed = uint64_t(seed);
  g.stop_strings = strings(r, "stop");
}

void check_family_options(const json& r, Family family) {
  const bool ssm = integer(r, "chunk_size", 0) != 0 || !str(r, "save_state").empty() || !str(r, "load_state").empty();
  IA_CHECK(!ssm || family == Family::StateSpace,
           "--chunk-size / --save-state / --load-state need a state-space model (mamba, mamba2, rwkv)");
  IA_CHECK(integer(r, "experts_per_token", 0) == 0 || family == Family::MixtureOfExperts,
           "--experts-per-token needs a mixture-of-experts model");
}

}  // namespace ia::request
