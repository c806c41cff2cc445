#include "templates/blip/blip_generate.h"

#include <algorithm>
#include <cstring>

#include "templates/greedy_decode.h"

namespace ia {

TensorMap blip_greedy_decode(const BlipTextModel& text, const BlipLMHead& head, const BlipTextParams& tp,
                             const std::vector<int64_t>& prompt, const std::vector<int64_t>& mask, int64_t B, int64_t P,
                             const Tensor& encoder, const GenerateOptions& opts) {
  const int64_t V = tp.vocab, eos = tp.sep_token_id;
  const int64_t max_new = std::max<int64_t>(0, opts.max_new_tokens);
  BlipTextModel::Cache cache;
  text.init_cache(cache, B, P + max_new, encoder);
  Tensor logits = Tensor::f32({B, V});
  std::vector<std::vector<int64_t>> rows(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) rows[size_t(b)].assign(prompt.begin() + b * P, prompt.begin() + (b + 1) * P);
  std::vector<float> step_logits;
  std::vector<char> done(size_t(B), 0);
  Tensor h = text.run(prompt.data(), B, P, mask.data(), true, nullptr, &cache);
  std::vector<float> last(size_t(B * tp.hidden));
  auto take_last = [&](const Tensor& hidden, int64_t T) {
    for (int64_t b = 0; b < B; ++b)
      std::memcpy(last.data() + b * tp.hidden, hidden.f32() + (b * T + T - 1) * tp.hidden, size_t(tp.hidden) * 4);
  };
  take_last(h, P);
  int64_t steps = 0;
  std::vector<int64_t> next(static_cast<size_t>(B)), ones(static_cast<size_t>(B), 1);
  for (int64_t s = 0; s < max_new; ++s) {
    head.forward(last.data(), B, logits.f32());
    if (opts.return_step_logits) step_logits.insert(step_logits.end(), logits.f32(), logits.f32() + B * V);
    for (int64_t b = 0; b < B; ++b) {
      const float* lb = logits.f32() + b * V;
      int64_t best = int64_t(std::max_element(lb, lb + V) - lb);
      if (done[size_t(b)]) best = tp.pad_token_id;  // finished rows are padded
      next[size_t(b)] = best;
      rows[size_t(b)].push_back(best);
      if (opts.eos_stops && best == eos) done[size_t(b)] = 1;
    }
    ++steps;
    if (opts.eos_stops && std::all_of(done.begin(), done.end(), [](char d) { return d != 0; })) break;
    if (s + 1 == max_new) break;
    h = text.run(next.data(), B, 1, ones.data(), true, nullptr, &cache);
    take_last(h, 1);
  }
  const int64_t total = P + steps;
  std::vector<int64_t> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  TensorMap out;
  out["sequences"] = Tensor::from_vector_i64(flat, {B, total});
  if (opts.return_step_logits) {
    out["step_logits"] = batch_major_steps(step_logits, B, steps, V);
  }
  return out;
}

}  // namespace ia
