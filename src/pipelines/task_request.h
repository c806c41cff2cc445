// Typed reads of a dispatcher request (task_dispatch.h): wrong types are an
// ia::Error naming the request key, never a silent default.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pipelines/text_generation.h"
#include "templates/family.h"

namespace ia::request {

bool has(const nlohmann::json& r, const char* key);
std::string str(const nlohmann::json& r, const char* key, const std::string& def = "");
int64_t integer(const nlohmann::json& r, const char* key, int64_t def);
double number(const nlohmann::json& r, const char* key, double def);
bool flag(const nlohmann::json& r, const char* key);
// A string or a list of strings ("" / absent: empty).
std::vector<std::string> strings(const nlohmann::json& r, const char* key);
// "a,b,c" or ["a", "b", "c"]; empty entries dropped.
std::vector<std::string> comma_list(const nlohmann::json& r, const char* key);
// "labels" as a result count (default 5).
int64_t label_count(const nlohmann::json& r);

// The text inputs: "inputs" then the contents of "input_file" (plain text, or
// .json holding a string, a list of strings or {"inputs": ...}). Throws when empty.
std::vector<std::string> text_inputs(const nlohmann::json& r);
// File inputs (image / WAV paths): "inputs" then "input_file".
std::vector<std::string> path_inputs(const nlohmann::json& r);

// Generation options on top of a pipeline's defaults, as `run`'s flags apply them.
void apply_generation(const nlohmann::json& r, GenerationSettings& g);

// State-space / mixture-of-experts options are refused on other families.
void check_family_options(const nlohmann::json& r, Family family);

}  // namespace ia::request
