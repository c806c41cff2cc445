#include "tokenizers/json_util.h"

#include "tokenizers/unicode.h"

namespace ia::tok {

char32_t jchar(const json& j, const char* key, const JPath& p) {
  std::string s = jstr(j, key, p);
  if (!uni::is_valid_utf8(s) || uni::char_count(s) != 1) json_fail(p / key, "expected a single character");
  size_t i = 0;
  return uni::next(s, i);
}

std::pair<std::string, bool> jpattern(const json& j, const char* key, const JPath& p) {
  const json& v = jreq(j, key, p);
  JPath q = p / key;
  if (v.is_string()) return {v.get<std::string>(), false};
  if (v.is_object() && v.contains("String") && v["String"].is_string()) return {v["String"].get<std::string>(), false};
  if (v.is_object() && v.contains("Regex") && v["Regex"].is_string()) return {v["Regex"].get<std::string>(), true};
  json_fail(q, "expected {\"String\": ...} or {\"Regex\": ...}");
}

}  // namespace ia::tok
