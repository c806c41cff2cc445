// libFuzzer target: config.json text goes through HFConfig::parse (what
// HFConfig::load runs on the file's bytes), then every getter is tried on
// every key. Getters may only answer or raise ia::Error.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "formats/hf_config.h"

namespace {

void probe(const ia::HFConfig& c, int depth) {
  auto attempt = [](auto&& f) {
    try {
      f();
    } catch (const ia::Error&) {
    }
  };
  for (auto it = c.raw().begin(); it != c.raw().end(); ++it) {
    const std::string key = it.key();
    attempt([&] { (void)c.has(key); });
    attempt([&] { (void)c.get_int(key); });
    attempt([&] { (void)c.get_int(key, 7); });
    attempt([&] { (void)c.get_float(key); });
    attempt([&] { (void)c.get_float(key, 0.5); });
    attempt([&] { (void)c.get_bool(key); });
    attempt([&] { (void)c.get_bool(key, true); });
    attempt([&] { (void)c.get_string(key); });
    attempt([&] { (void)c.get_string(key, "x"); });
    attempt([&] { (void)c.get_int_list(key); });
    attempt([&] {
      ia::HFConfig s = c.sub(key);
      if (depth < 3) probe(s, depth + 1);
    });
  }
  attempt([&] { (void)c.get_int_any({"n_embd", "hidden_size", "d_model"}); });
  attempt([&] { (void)c.get_int_any({"num_key_value_heads", "n_head"}, 1); });
  attempt([&] { (void)c.get_int("missing_field"); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    probe(ia::HFConfig::parse(text, "fuzz.json"), 0);
  } catch (const ia::Error&) {
    // Malformed JSON, wrong top-level type, excessive nesting: rejected with a message.
  }
  return 0;
}
