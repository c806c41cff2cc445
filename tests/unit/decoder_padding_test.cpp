// Left-padded batches: every real token of a padded row gets the same logits as
// the row run alone, in forward (with generate-style position_ids) and generate.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "templates/decoder_only/decoder_model.h"

using namespace ia;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> decoder_fixture_dirs() {
  std::vector<std::string> dirs;
  fs::path root = fs::path(IA_FIXTURES_DIR) / "models";
  for (const auto& type : decoder_model_types()) {
    fs::path d = root / type;
    if (!fs::exists(d)) continue;
    for (const auto& e : fs::directory_iterator(d))
      if (fs::exists(e.path() / "reference.json")) dirs.push_back(e.path().string());
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

std::unique_ptr<DecoderModel> load(const std::string& dir) {
  ModelContext ctx = ModelContext::open(dir);
  ctx.checkpoint = Checkpoint::open_dir(dir);
  return std::make_unique<DecoderModel>(ctx);
}

double max_diff(const float* a, const float* b, int64_t n) {
  double w = 0;
  for (int64_t i = 0; i < n; ++i) w = std::max(w, double(std::fabs(a[i] - b[i])));
  return w;
}

}  // namespace

TEST(DecoderPadding, ForwardPaddedRowEqualsSingleRow) {
  for (const auto& d : decoder_fixture_dirs()) {
    auto m = load(d);
    const int64_t V = m->vocab(), T = 7, pad = 3;
    std::vector<int64_t> a = {5, 17, 29, 41, 53, 65, 77}, b = {9, 21, 33, 45};
    // Batch: row 0 = a, row 1 = 3 pads + b.
    std::vector<int64_t> ids = a, mask(size_t(2 * T), 1), pos;
    for (int64_t i = 0; i < pad; ++i) ids.push_back(0);
    ids.insert(ids.end(), b.begin(), b.end());
    for (int64_t i = 0; i < pad; ++i) mask[size_t(T + i)] = 0;
    for (int64_t t = 0; t < T; ++t) pos.push_back(t);
    for (int64_t t = 0; t < T; ++t) pos.push_back(t < pad ? 1 : t - pad);
    TensorMap batch = m->forward({{"input_ids", Tensor::from_vector_i64(ids, {2, T})},
                                  {"attention_mask", Tensor::from_vector_i64(mask, {2, T})},
                                  {"position_ids", Tensor::from_vector_i64(pos, {2, T})}});
    TensorMap single = m->forward({{"input_ids", Tensor::from_vector_i64(b, {1, 4})}});
    TensorMap single_a = m->forward({{"input_ids", Tensor::from_vector_i64(a, {1, T})}});
    const float* bl = batch.at("logits").f32();
    EXPECT_LT(max_diff(bl, single_a.at("logits").f32(), T * V), 1e-4) << d;
    EXPECT_LT(max_diff(bl + (T + pad) * V, single.at("logits").f32(), 4 * V), 1e-4) << d;
  }
}

TEST(DecoderPadding, GeneratePaddedRowEqualsSingleRow) {
  for (const auto& d : decoder_fixture_dirs()) {
    auto m = load(d);
    // Gemma-2's HybridCache masks ring slots by column, so padding shifts its window on
    // purpose (as in 4.44.2); covered by HybridCacheReproducesRingQuirks below.
    if (m->params().hybrid_cache) continue;
    const int64_t V = m->vocab(), T = 6, pad = 2, N = 6;
    std::vector<int64_t> a = {4, 15, 26, 37, 48, 59}, b = {8, 19, 30, 41};
    std::vector<int64_t> ids = a, mask(size_t(2 * T), 1);
    for (int64_t i = 0; i < pad; ++i) ids.push_back(0);
    ids.insert(ids.end(), b.begin(), b.end());
    for (int64_t i = 0; i < pad; ++i) mask[size_t(T + i)] = 0;
    GenerateOptions o;
    o.max_new_tokens = N;
    o.eos_stops = false;
    TensorMap g = m->generate({{"input_ids", Tensor::from_vector_i64(ids, {2, T})},
                               {"attention_mask", Tensor::from_vector_i64(mask, {2, T})}},
                              o);
    TensorMap s = m->generate({{"input_ids", Tensor::from_vector_i64(b, {1, 4})}}, o);
    const Tensor& gs = g.at("sequences");
    for (int64_t i = 0; i < N; ++i) EXPECT_EQ(gs.i64()[(T + N) + T + i], s.at("sequences").i64()[4 + i]) << d;
    EXPECT_LT(max_diff(g.at("step_logits").f32() + N * V, s.at("step_logits").f32(), N * V), 1e-4) << d;
  }
}

TEST(DecoderPadding, EosStopsAndPadsFinishedRows) {
  auto m = load((fs::path(IA_FIXTURES_DIR) / "models/llama/LlamaForCausalLM").string());
  std::vector<int64_t> prompt = {28, 49, 59, 118, 69, 67, 60};
  GenerateOptions o;
  o.max_new_tokens = 8;
  o.eos_stops = false;
  TensorMap free_run = m->generate({{"input_ids", Tensor::from_vector_i64(prompt, {1, 7})}}, o);
  // The fixture's greedy continuation is 121 121 48 65 ...: declare 48 an EOS.
  int64_t third = free_run.at("sequences").i64()[9];
  o.eos_stops = true;
  o.eos_token_ids = {third};
  TensorMap stopped = m->generate({{"input_ids", Tensor::from_vector_i64(prompt, {1, 7})}}, o);
  EXPECT_EQ(stopped.at("sequences").dim(1), 10);
  EXPECT_EQ(stopped.at("step_logits").dim(1), 3);
  // Two rows: the one that hits EOS is padded with pad_token_id until the other finishes.
  std::vector<int64_t> two = prompt;
  std::vector<int64_t> other = {3, 78, 32, 96, 94, 82, 85};
  two.insert(two.end(), other.begin(), other.end());
  o.pad_token_id = 0;
  TensorMap both = m->generate({{"input_ids", Tensor::from_vector_i64(two, {2, 7})}}, o);
  const Tensor& seq = both.at("sequences");
  if (seq.dim(1) > 10) EXPECT_EQ(seq.i64()[10], 0);
}

// Gemma-2 generate() in 4.44.2 runs sliding layers on HybridCache's ring of
// min(window, max_length) slots. When the prompt is shorter than the window, the
// roll at position window-1 drops position 0 and leaves a zero key/value slot, so
// cached decoding departs from the full forward exactly from that step on.
TEST(DecoderPadding, HybridCacheReproducesRingQuirks) {
  auto m = load((fs::path(IA_FIXTURES_DIR) / "models/gemma2/Gemma2ForCausalLM").string());
  ASSERT_TRUE(m->params().hybrid_cache);
  ASSERT_EQ(m->params().window[0], 4);
  const int64_t V = m->vocab(), P = 2, N = 5;
  GenerateOptions o;
  o.max_new_tokens = N;
  o.eos_stops = false;
  TensorMap g = m->generate({{"input_ids", Tensor::from_vector_i64({11, 22}, {1, P})}}, o);
  TensorMap f = m->forward({{"input_ids", g.at("sequences")}});
  auto step_diff = [&](int64_t s) {
    return max_diff(g.at("step_logits").f32() + s * V, f.at("logits").f32() + (P - 1 + s) * V, V);
  };
  EXPECT_LT(step_diff(0), 1e-4);  // prefill (position 1)
  EXPECT_LT(step_diff(1), 1e-4);  // position 2: ring not full yet
  EXPECT_GT(step_diff(2), 1e-3);  // position 3 = window - 1: the roll leaves a zero slot
}
