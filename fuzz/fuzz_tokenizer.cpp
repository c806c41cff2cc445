// libFuzzer target for tokenizer loading and encoding. The first input byte
// picks the mode:
//   even: the rest is "<tokenizer.json text>\0<text>": the JSON goes through
//         Tokenizer::from_json_string; if it loads, the text is encoded
//         (single, pair, batch) and the ids decoded (with / without specials).
//   odd : the rest is text, encoded and decoded by one of the bundled
//         tokenizers (tests/fixtures/tokenizers, loaded once; byte 1 picks it).
// Loading may only raise ia::Error (Unsupported included); encoding and
// decoding of any bytes (invalid UTF-8 included) must not fail at all on the
// bundled tokenizers, and may only raise ia::Error on fuzzed ones.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "tokenizers/tokenizer.h"

namespace {

std::vector<std::unique_ptr<ia::Tokenizer>>& bundled() {
  static std::vector<std::unique_ptr<ia::Tokenizer>> toks = [] {
    std::vector<std::unique_ptr<ia::Tokenizer>> v;
    for (const auto& e : std::filesystem::directory_iterator(IA_TOKENIZER_FIXTURES)) {
      if (!std::filesystem::exists(e.path() / "tokenizer.json")) continue;
      v.push_back(std::make_unique<ia::Tokenizer>(ia::Tokenizer::from_dir(e.path().string())));
    }
    return v;
  }();
  return toks;
}

void exercise(const ia::Tokenizer& t, const std::string& text) {
  auto enc = t.encode(text, true);
  std::vector<uint32_t> ids(enc.ids.begin(), enc.ids.end());
  ids.push_back(0x7FFFFFFF);  // an id no vocabulary has: dropped by decode
  (void)t.decode(ids, false);
  (void)t.decode(ids, true);
  size_t half = text.size() / 2;
  (void)t.encode_pair(text.substr(0, half), text.substr(half), true);
  (void)t.encode_batch({text, text.substr(half), ""}, false);
  for (uint32_t id : enc.ids) (void)t.id_to_token(id);
}

}  // namespace

// Loading the 16 bundled tokenizers takes a while under ASan: done once, untimed.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)bundled();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    auto& toks = bundled();
    const ia::Tokenizer& t = *toks[size_t(static_cast<unsigned char>(rest[0])) % toks.size()];
    exercise(t, rest.substr(1));  // must not throw
    return 0;
  }
  size_t nul = rest.find('\0');
  std::string json = rest.substr(0, nul);
  std::string text = nul == std::string::npos ? "Hello world, héllo 😀 123" : rest.substr(nul + 1);
  try {
    ia::Tokenizer t = ia::Tokenizer::from_json_string(json, "fuzz.json");
    exercise(t, text);
  } catch (const ia::Error&) {
  }
  return 0;
}
