// The result shape every pipeline returns (the seed's handler contract):
//   {"success": true, <task key>: payload, "device": "cpu", "hardware": {...}, ...}
//   {"success": false, "error": "...", "device": ..., "hardware": ...}
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace ia {

// The device actually used and what it is (never a guess: read from the CPU template).
nlohmann::json hardware_json();
nlohmann::json success_result(const std::string& key, nlohmann::json payload);
nlohmann::json error_result(const std::string& message);

}  // namespace ia
