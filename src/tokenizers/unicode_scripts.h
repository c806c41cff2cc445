// Unicode script of a code point, as the UnicodeScripts pre-tokenizer of the
// Rust library sees it (its table covers the Unicode 9 scripts; code points
// outside it are "Any").
#pragma once
#include <cstdint>

namespace ia::tok {

// 0 = Any; otherwise an opaque script number (only equality is meaningful).
// Hiragana, Katakana and U+30FC count as Han; ' ' is Any.
int fixed_script(char32_t c);

}  // namespace ia::tok
