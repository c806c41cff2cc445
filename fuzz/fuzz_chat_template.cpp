// libFuzzer target for the Jinja engine behind chat templates: the input is a
// template, parsed and rendered against a fixed chat context (messages with
// string and list-of-parts content, tools, special tokens). Parsing and
// rendering may only raise ia::Error.
#include <cstddef>
#include <cstdint>
#include <string>

#include "chat/jinja.h"
#include "core/error.h"

namespace {
const ia::jinja::Value& context() {
  static const ia::jinja::Value ctx = ia::jinja::from_json_text(R"({
    "messages": [{"role": "system", "content": "Be brief."},
                 {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is this?"}]},
                 {"role": "assistant", "content": "A cat.", "tool_calls": [{"id": "abc", "function": {"name": "f", "arguments": {"x": 1.5}}}]},
                 {"role": "user", "content": "héllo 😀"}],
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    "documents": null, "add_generation_prompt": true,
    "bos_token": "<s>", "eos_token": "</s>", "additional_special_tokens": ["<a>", "<b>"]})", "context");
  return ctx;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string src(reinterpret_cast<const char*>(data), size);
  try {
    ia::jinja::Template t(src, "fuzz");
    (void)t.render(context());
  } catch (const ia::Error&) {
  }
  return 0;
}
