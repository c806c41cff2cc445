// Typed access to tokenizer.json fields; every error names the file and the
// JSON path of the field at fault. Include only from .cpp files.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"

namespace ia::tok {

using json = nlohmann::json;

// Where a JSON value lives: "<file>: <path>".
struct JPath {
  std::string file, path;
  JPath operator/(const std::string& key) const { return {file, path + "." + key}; }
  JPath operator[](size_t i) const { return {file, path + "[" + std::to_string(i) + "]"}; }
  std::string str() const { return file + ": " + path; }
};

[[noreturn]] inline void json_fail(const JPath& p, const std::string& what) { fail(p.str(), ": ", what); }

inline const json& jreq(const json& j, const char* key, const JPath& p) {
  if (!j.is_object()) json_fail(p, "expected an object");
  auto it = j.find(key);
  if (it == j.end()) json_fail(p / key, "missing field");
  return *it;
}
inline bool jhas(const json& j, const char* key) {
  if (!j.is_object()) return false;
  auto it = j.find(key);
  return it != j.end() && !it->is_null();
}
inline std::string jstr(const json& j, const char* key, const JPath& p) {
  const json& v = jreq(j, key, p);
  if (!v.is_string()) json_fail(p / key, "expected a string");
  return v.get<std::string>();
}
inline std::string jstr_or(const json& j, const char* key, const std::string& dflt, const JPath& p) {
  if (!jhas(j, key)) return dflt;
  const json& v = j.at(key);
  if (!v.is_string()) json_fail(p / key, "expected a string");
  return v.get<std::string>();
}
inline bool jbool_or(const json& j, const char* key, bool dflt, const JPath& p) {
  if (!jhas(j, key)) return dflt;
  const json& v = j.at(key);
  if (!v.is_boolean()) json_fail(p / key, "expected a boolean");
  return v.get<bool>();
}
inline int64_t jint(const json& j, const char* key, const JPath& p) {
  const json& v = jreq(j, key, p);
  if (!v.is_number_integer()) json_fail(p / key, "expected an integer");
  return v.get<int64_t>();
}
inline int64_t jint_or(const json& j, const char* key, int64_t dflt, const JPath& p) {
  if (!jhas(j, key)) return dflt;
  return jint(j, key, p);
}
inline uint32_t jid(const json& v, const JPath& p) {
  if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > int64_t(UINT32_MAX))
    json_fail(p, "expected a non-negative token id");
  return uint32_t(v.get<int64_t>());
}
// Single code point string (Metaspace replacement, CharDelimiterSplit delimiter...).
char32_t jchar(const json& j, const char* key, const JPath& p);
// A pattern object {"String": s} or {"Regex": r}; returns (text, is_regex).
std::pair<std::string, bool> jpattern(const json& j, const char* key, const JPath& p);

}  // namespace ia::tok
