#include "pipelines/text_generation.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "core/error.h"

namespace ia {

GenerationSettings generation_defaults(const std::optional<HFConfig>& gc, const HFConfig& config) {
  GenerationSettings s;
  if (gc) {
    s.sampling.do_sample = gc->get_bool("do_sample", false);
    s.sampling.temperature = float(gc->get_float("temperature", 1.0));
    s.sampling.top_k = gc->get_int("top_k", 50);
    s.sampling.top_p = float(gc->get_float("top_p", 1.0));
    s.sampling.min_p = float(gc->get_float("min_p", 0.0));
    s.sampling.repetition_penalty = float(gc->get_float("repetition_penalty", 1.0));
    if (gc->has("max_new_tokens")) s.max_new_tokens = gc->get_int("max_new_tokens");
    s.eos_token_ids = gc->get_int_list("eos_token_id");
  }
  if (s.eos_token_ids.empty()) s.eos_token_ids = config.get_int_list("eos_token_id");
  return s;
}

namespace {

// Longest prefix of `s` that ends on a complete UTF-8 character (streaming must not split one).
size_t complete_utf8_prefix(const std::string& s) {
  size_t n = s.size();
  size_t i = n;
  int back = 0;
  while (i > 0 && back < 4) {
    unsigned char c = static_cast<unsigned char>(s[i - 1]);
    if ((c & 0xC0) != 0x80) {
      size_t need = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
      return (n - (i - 1)) >= need ? n : i - 1;
    }
    --i;
    ++back;
  }
  return n;
}

bool ends_with_replacement_char(const std::string& s) {
  return s.size() >= 3 && s.compare(s.size() - 3, 3, "\xEF\xBF\xBD") == 0;
}

}  // namespace

GenerationOutput generate_text(StepDecoder& model, const Tokenizer& tok, const std::string& prompt,
                               const GenerationSettings& s, const std::function<void(const std::string&)>& on_text) {
  GenerationOutput out;
  Encoding enc = tok.encode(prompt, s.add_special_tokens);
  IA_CHECK(!enc.ids.empty(), "the prompt encodes to no tokens; nothing to continue from");
  for (auto id : enc.ids) out.prompt_ids.push_back(int64_t(id));
  const int64_t vocab = model.vocab();
  for (int64_t id : out.prompt_ids)
    IA_CHECK(id >= 0 && id < vocab, "prompt token id ", id, " is outside the model's vocabulary (", vocab,
             "): tokenizer and model do not match");
  Sampler sampler(s.sampling);
  std::vector<int64_t> context = out.prompt_ids;
  context.reserve(context.size() + size_t(s.max_new_tokens));
  std::vector<float> scratch(static_cast<size_t>(vocab));
  const int64_t P = int64_t(out.prompt_ids.size());
  auto t0 = std::chrono::steady_clock::now();
  const float* logits = s.max_new_tokens > 0 ? model.prefill(out.prompt_ids.data(), nullptr, 1, P, P + s.max_new_tokens) : nullptr;
  auto t1 = std::chrono::steady_clock::now();
  out.prefill_seconds = std::chrono::duration<double>(t1 - t0).count();
  out.finish_reason = "length";
  std::vector<uint32_t> gen_u32;
  size_t emitted = 0;  // bytes of out.text already streamed
  for (int64_t step = 0; step < s.max_new_tokens; ++step) {
    std::memcpy(scratch.data(), logits, size_t(vocab) * sizeof(float));
    int64_t next = sampler.next(scratch.data(), vocab, context);
    out.new_ids.push_back(next);
    context.push_back(next);
    if (std::find(s.eos_token_ids.begin(), s.eos_token_ids.end(), next) != s.eos_token_ids.end()) {
      out.finish_reason = "eos";
      break;
    }
    gen_u32.push_back(uint32_t(next));
    std::string text = tok.decode(gen_u32, true);
    bool stopped = false;
    for (const auto& stop : s.stop_strings) {
      size_t at = stop.empty() ? std::string::npos : text.find(stop);
      if (at != std::string::npos) {
        text.resize(at);
        stopped = true;
      }
    }
    out.text = text;
    // Stream what is settled: whole UTF-8 characters, not a dangling byte-fallback piece,
    // and hold back a tail that could still become a stop string.
    if (on_text && !ends_with_replacement_char(text)) {
      size_t hold = 0;
      if (!stopped)
        for (const auto& stop : s.stop_strings)
          for (size_t k = std::min(stop.size() - (stop.empty() ? 0 : 1), text.size()); k > 0; --k)
            if (text.compare(text.size() - k, k, stop, 0, k) == 0) {
              hold = std::max(hold, k);
              break;
            }
      size_t ready = complete_utf8_prefix(text.substr(0, text.size() - hold));
      if (ready > emitted && text.compare(0, emitted, out.text, 0, emitted) == 0) {
        on_text(text.substr(emitted, ready - emitted));
        emitted = ready;
      }
    }
    if (stopped) {
      out.finish_reason = "stop";
      break;
    }
    if (step + 1 < s.max_new_tokens) logits = model.decode_step(&next);
  }
  if (on_text && out.text.size() > emitted) on_text(out.text.substr(emitted));
  out.decode_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  return out;
}

}  // namespace ia
