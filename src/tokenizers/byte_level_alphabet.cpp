#include "tokenizers/byte_level_alphabet.h"

#include <array>
#include <cstddef>

namespace ia::tok {
namespace {
struct Table {
  std::array<char32_t, 256> b2c{};
  std::array<int16_t, 324> c2b{};  // stand-ins are all below U+0144
  Table() {
    c2b.fill(-1);
    std::array<bool, 256> direct{};
    for (int b = '!'; b <= '~'; ++b) direct[size_t(b)] = true;
    for (int b = 0xA1; b <= 0xAC; ++b) direct[size_t(b)] = true;
    for (int b = 0xAE; b <= 0xFF; ++b) direct[size_t(b)] = true;
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      char32_t c = direct[size_t(b)] ? char32_t(b) : char32_t(256 + n++);
      b2c[size_t(b)] = c;
      c2b[size_t(c)] = int16_t(b);
    }
  }
};
const Table& table() {
  static const Table t;
  return t;
}
}  // namespace

char32_t byte_to_char(uint8_t b) { return table().b2c[b]; }
int char_to_byte(char32_t c) { return c < 324 ? table().c2b[c] : -1; }

}  // namespace ia::tok
