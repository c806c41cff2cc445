// Whisper's languages (tokenization_whisper.py of transformers 4.44.2): LANGUAGES
// (code -> name, in token order) and the extra names TO_LANGUAGE_CODE accepts.
#pragma once
#include <optional>
#include <string>

namespace ia {

// "en" -> "english"; nullopt for a code Whisper does not know.
std::optional<std::string> whisper_language_name(const std::string& code);
// "english" / "EN" / "<|en|>"-less aliases such as "castilian" -> "es" (case-insensitive);
// a bare code maps to itself. nullopt when neither a name nor a code.
std::optional<std::string> whisper_language_code(const std::string& name_or_code);

}  // namespace ia
