// Pieces of detection shared between detect.cpp (directories) and
// detect_name.cpp (names); not part of the public interface.
#pragma once
#include <string>

#include "registry/detect.h"

namespace ia::detail {

// Name-based detection over one already-normalised text (no organisation part).
// Fills model_type/info/family/confidence/rule/notes of `d`; returns false when
// no candidate matched.
bool match_model_name(const std::string& normalised, Detection& d);

// Lower case, '_' and whitespace -> '-'.
std::string normalise_name(const std::string& s);

// "XLMRobertaForMaskedLM" -> "xlmroberta": the class-name prefix before the head,
// lower-cased, for matching against model-type spellings.
std::string class_name_stem(const std::string& architecture);

}  // namespace ia::detail
