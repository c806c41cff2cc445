// GPT-2's byte <-> printable character table used by the ByteLevel components.
#pragma once
#include <cstdint>

namespace ia::tok {

// The printable code point standing for byte `b`.
char32_t byte_to_char(uint8_t b);
// The byte a printable stand-in char represents, or -1 if `c` is not one.
int char_to_byte(char32_t c);

}  // namespace ia::tok
