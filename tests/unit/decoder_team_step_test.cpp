// Decode steps with several threads run the whole layer stack in one parallel region
// (decoder_team_step.cpp); with one thread they take run()'s generic layer loop. Both
// must give the same logits for every residual / attention / MLP variant the team step
// covers (sequential and parallel residuals, GQA and MQA head splits, ALiBi, learned and
// rotary positions, gated and plain MLPs), for batches of 1-3 rows and odd team sizes.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <vector>

#include "backends/cpu/cpu_info.h"
#include "templates/decoder_only/decoder_model.h"

using namespace ia;
namespace fs = std::filesystem;

namespace {

// Logits of a prompt and `steps` greedy-free decode steps (fixed tokens), concatenated.
std::vector<float> decode_logits(DecoderModel& m, int64_t B, int steps) {
  const int64_t P = 5, V = m.vocab();
  std::vector<int64_t> ids(size_t(B * P)), mask(size_t(B * P), 1);
  for (int64_t i = 0; i < B * P; ++i) ids[size_t(i)] = (7 * i + 3) % V;
  if (B > 1) mask[size_t(P)] = 0;  // left padding on row 1
  std::vector<float> out;
  const float* l = m.prefill(ids.data(), mask.data(), B, P, P + steps);
  out.insert(out.end(), l, l + B * V);
  for (int s = 0; s < steps; ++s) {
    std::vector<int64_t> tok(static_cast<size_t>(B));
    for (int64_t b = 0; b < B; ++b) tok[size_t(b)] = (11 * s + 5 * b + 1) % V;
    l = m.decode_step(tok.data());
    out.insert(out.end(), l, l + B * V);
  }
  return out;
}

}  // namespace

TEST(DecoderTeamStep, MatchesGenericLayerLoop) {
  const int before = cpu::cpu_info().threads;
  for (const char* fixture :
       {"gpt2/GPT2LMHeadModel", "llama/LlamaForCausalLM", "gpt_bigcode/GPTBigCodeForCausalLM", "bloom/BloomForCausalLM",
        "falcon/FalconForCausalLM", "gptj/GPTJForCausalLM", "phi/PhiForCausalLM", "mistral/MistralForCausalLM",
        "opt/OPTForCausalLM"}) {
    auto model = load_model((fs::path(IA_FIXTURES_DIR) / "models" / fixture).string());
    auto* m = dynamic_cast<DecoderModel*>(model.get());
    ASSERT_NE(m, nullptr) << fixture;
    for (int64_t B : {1, 3}) {
      cpu::set_num_threads(1);  // generic loop
      const std::vector<float> want = decode_logits(*m, B, 4);
      for (int threads : {2, 3}) {
        cpu::set_num_threads(threads);  // one parallel region per step
        const std::vector<float> got = decode_logits(*m, B, 4);
        ASSERT_EQ(got.size(), want.size());
        for (size_t i = 0; i < got.size(); ++i)
          ASSERT_NEAR(got[i], want[i], 1e-5 + 1e-5 * std::fabs(want[i]))
              << fixture << " B=" << B << " threads=" << threads << " at " << i;
      }
    }
  }
  cpu::set_num_threads(before);
}

// Split by columns, the threads' shares follow their speeds: any shares give the same
// logits bit for bit (each column is computed whole by one thread with the same kernel).
TEST(DecoderTeamStep, ColumnSharesDoNotChangeTheLogits) {
  const int before = cpu::cpu_info().threads;
  auto model = load_model((fs::path(IA_FIXTURES_DIR) / "models" / "llama/LlamaForCausalLM").string());
  auto* m = dynamic_cast<DecoderModel*>(model.get());
  ASSERT_NE(m, nullptr);
  cpu::set_num_threads(2);
  m->team_balance().reset(2);
  m->team_balance().set_adapt(false);
  const std::vector<float> even = decode_logits(*m, 2, 4);
  for (const std::vector<double>& shares : std::vector<std::vector<double>>{{0.3, 0.7}, {0.7, 0.3}}) {
    m->team_balance().set_shares(shares);
    EXPECT_EQ(decode_logits(*m, 2, 4), even) << "shares " << shares[0] << "/" << shares[1];
  }
  m->team_balance().set_adapt(true);
  cpu::set_num_threads(before);
}

