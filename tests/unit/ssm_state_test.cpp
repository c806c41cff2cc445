// Recurrent state of the state-space template: chunked prefill == one pass ==
// step-by-step decoding; state save/load continues generation identically;
// the state stays the same size however long decoding runs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/hf_config.h"
#include "templates/state_space/state_space_model.h"
#include "scratch_dir.h"

using namespace ia;
namespace fs = std::filesystem;

namespace {

const char* kFixtures[] = {"mamba/MambaForCausalLM", "mamba2/Mamba2ForCausalLM", "rwkv/RwkvForCausalLM"};

std::string fixture_dir(const std::string& f) { return (fs::path(IA_FIXTURES_DIR) / "models" / f).string(); }

std::unique_ptr<StateSpaceModel> open_ssm(const std::string& dir) {
  std::unique_ptr<Model> m = load_model(dir);
  auto* s = dynamic_cast<StateSpaceModel*>(m.get());
  EXPECT_NE(s, nullptr) << dir << " did not build a StateSpaceModel";
  if (!s) return nullptr;
  m.release();
  return std::unique_ptr<StateSpaceModel>(s);
}

// A deterministic prompt of `n` ids below `vocab`.
std::vector<int64_t> prompt(int64_t rows, int64_t n, int64_t vocab, int64_t seed = 7) {
  std::vector<int64_t> ids(size_t(rows * n));
  uint64_t s = uint64_t(seed) * 2654435761u + 1;
  for (auto& v : ids) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    v = int64_t((s >> 33) % uint64_t(vocab));
  }
  return ids;
}

double max_abs_diff(const float* a, const float* b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; ++i) m = std::max(m, double(std::fabs(a[i] - b[i])));
  return m;
}

// All-position logits [B*T, V] of a prompt fed in pieces of `chunk` tokens (0 = one pass).
std::vector<float> chunked_logits(StateSpaceModel& m, const std::vector<int64_t>& ids, int64_t B, int64_t T, int64_t chunk) {
  m.reset_state(B);
  const float* h = m.feed(ids.data(), nullptr, T, chunk);
  std::vector<float> logits(size_t(B * T * m.vocab()));
  m.logits_of(h, B * T, logits.data());
  return logits;
}

// Same logits from a prefill of `P` tokens followed by single-token decode steps.
std::vector<float> stepwise_logits(StateSpaceModel& m, const std::vector<int64_t>& ids, int64_t B, int64_t T, int64_t P) {
  const int64_t V = m.vocab();
  std::vector<float> logits(size_t(B * T * V));
  std::vector<int64_t> head(size_t(B * P)), tok(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) std::memcpy(head.data() + b * P, ids.data() + b * T, size_t(P) * 8);
  m.reset_state(B);
  const float* h = m.feed(head.data(), nullptr, P, 0);
  std::vector<float> lp(size_t(B * P * V));
  m.logits_of(h, B * P, lp.data());
  for (int64_t b = 0; b < B; ++b) std::memcpy(logits.data() + b * T * V, lp.data() + b * P * V, size_t(P * V) * 4);
  for (int64_t t = P; t < T; ++t) {
    for (int64_t b = 0; b < B; ++b) tok[size_t(b)] = ids[size_t(b * T + t)];
    const float* l = m.decode_step(tok.data());
    for (int64_t b = 0; b < B; ++b) std::memcpy(logits.data() + (b * T + t) * V, l + b * V, size_t(V) * 4);
  }
  return logits;
}

// A copy of a fixture checkpoint whose config.json is edited by `edit`.
class EditedCheckpoint {
 public:
  EditedCheckpoint(const std::string& fixture, const std::function<void(nlohmann::json&)>& edit)
      : scratch_("ssm"), dir_(scratch_.path()) {
    fs::path src = fixture_dir(fixture);
    fs::copy_file(src / "model.safetensors", dir_ / "model.safetensors", fs::copy_options::overwrite_existing);
    std::ifstream in(src / "config.json");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    nlohmann::json j = nlohmann::json::parse(python_json_compat(text));  // mamba2 stores Infinity
    edit(j);
    std::ofstream(dir_ / "config.json") << j.dump(2);
  }
  std::string dir() const { return dir_.string(); }

 private:
  ia::test::ScratchDir scratch_;  // removed with the object
  fs::path dir_;
};

}  // namespace

class SsmEachFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(SsmEachFixture, ChunkedPrefillEqualsOnePass) {
  auto m = open_ssm(fixture_dir(GetParam()));
  ASSERT_TRUE(m);
  const int64_t B = 2, T = 11;
  auto ids = prompt(B, T, m->vocab());
  std::vector<float> full = chunked_logits(*m, ids, B, T, 0);
  for (int64_t chunk : {1, 3, 4, 10}) {
    std::vector<float> c = chunked_logits(*m, ids, B, T, chunk);
    EXPECT_LT(max_abs_diff(full.data(), c.data(), full.size()), 2e-5) << GetParam() << " chunk " << chunk;
  }
  // The state after the pieces is the state after one pass: the next decode step agrees.
  std::vector<int64_t> next = {3, 5};
  const int64_t V = m->vocab();
  m->reset_state(B);
  m->feed(ids.data(), nullptr, T, 0);
  const float* l1 = m->decode_step(next.data());
  std::vector<float> one(l1, l1 + B * V);
  m->reset_state(B);
  m->feed(ids.data(), nullptr, T, 3);
  EXPECT_EQ(m->stats().chunks_processed, 4);  // 11 tokens in pieces of 3
  const float* l2 = m->decode_step(next.data());
  EXPECT_LT(max_abs_diff(one.data(), l2, size_t(B * V)), 2e-5) << GetParam();
}

TEST_P(SsmEachFixture, StepByStepEqualsOnePass) {
  auto m = open_ssm(fixture_dir(GetParam()));
  ASSERT_TRUE(m);
  const int64_t B = 2, T = 9;
  auto ids = prompt(B, T, m->vocab(), 11);
  std::vector<float> full = chunked_logits(*m, ids, B, T, 0);
  for (int64_t P : {1, 2, 5}) {
    std::vector<float> s = stepwise_logits(*m, ids, B, T, P);
    EXPECT_LT(max_abs_diff(full.data(), s.data(), full.size()), 2e-5) << GetParam() << " prefill " << P;
  }
}

TEST_P(SsmEachFixture, SavedStateContinuesIdentically) {
  const std::string dir = fixture_dir(GetParam());
  auto m = open_ssm(dir);
  ASSERT_TRUE(m);
  const int64_t B = 2, P = 6, steps = 12, V = m->vocab();
  auto ids = prompt(B, P, V, 3);
  const ia::test::ScratchDir scratch("ssm_state");
  const fs::path file = scratch.path() / "state.safetensors";
  // Run the prompt, save, then greedy-decode `steps` tokens.
  const float* l = m->prefill_chunked(ids.data(), nullptr, B, P, 4);
  std::vector<float> first(l, l + B * V);
  m->save_state(file.string());
  EXPECT_EQ(m->state().tokens(), P);
  auto greedy = [&](StateSpaceModel& mm, std::vector<float> logits) {
    std::vector<float> all;
    std::vector<int64_t> tok(static_cast<size_t>(B));
    for (int64_t s = 0; s < steps; ++s) {
      for (int64_t b = 0; b < B; ++b)
        tok[size_t(b)] = std::max_element(logits.begin() + b * V, logits.begin() + (b + 1) * V) - (logits.begin() + b * V);
      const float* nl = mm.decode_step(tok.data());
      logits.assign(nl, nl + B * V);
      all.insert(all.end(), logits.begin(), logits.end());
    }
    return all;
  };
  std::vector<float> direct = greedy(*m, first);
  // A fresh model instance restores the state from the file and continues.
  auto m2 = open_ssm(dir);
  ASSERT_TRUE(m2);
  m2->load_state(file.string());
  EXPECT_EQ(m2->state().batch(), B);
  EXPECT_EQ(m2->state().tokens(), P);
  EXPECT_EQ(m2->state_bytes(), m->state_bytes());
  std::vector<float> resumed = greedy(*m2, first);
  ASSERT_EQ(direct.size(), resumed.size());
  EXPECT_EQ(max_abs_diff(direct.data(), resumed.data(), direct.size()), 0.0) << GetParam();
}

TEST_P(SsmEachFixture, StateSizeIndependentOfLength) {
  auto m = open_ssm(fixture_dir(GetParam()));
  ASSERT_TRUE(m);
  auto ids = prompt(1, 4, m->vocab());
  m->prefill_chunked(ids.data(), nullptr, 1, 4, 0);
  const size_t bytes = m->state_bytes();
  EXPECT_GT(bytes, 0u);
  int64_t tok = 1;
  for (int i = 0; i < 2000; ++i) {
    const float* l = m->decode_step(&tok);
    tok = std::max_element(l, l + m->vocab()) - l;
    ASSERT_TRUE(std::isfinite(l[0]));
  }
  EXPECT_EQ(m->state_bytes(), bytes);
  EXPECT_EQ(m->state().tokens(), 2004);
  EXPECT_EQ(m->stats().tokens_decoded, 2000);
  // What a KV cache of that length would hold grows linearly; the state does not.
  EXPECT_GT(m->kv_cache_equivalent_bytes(2004), bytes);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, SsmEachFixture, ::testing::ValuesIn(kFixtures));

TEST(SsmState, LoadRejectsOtherModel) {
  auto mamba = open_ssm(fixture_dir("mamba/MambaForCausalLM"));
  auto rwkv = open_ssm(fixture_dir("rwkv/RwkvForCausalLM"));
  ASSERT_TRUE(mamba && rwkv);
  auto ids = prompt(1, 3, 128);
  mamba->prefill_chunked(ids.data(), nullptr, 1, 3, 0);
  const ia::test::ScratchDir scratch("ssm_other");
  const fs::path file = scratch.path() / "state.safetensors";
  mamba->save_state(file.string());
  try {
    rwkv->load_state(file.string());
    FAIL() << "loading a mamba state into rwkv must fail";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model_type"), std::string::npos) << e.what();
  }
}

TEST(SsmState, LoadRejectsDifferentConfig) {
  auto a = open_ssm(fixture_dir("mamba/MambaForCausalLM"));
  ASSERT_TRUE(a);
  auto ids = prompt(1, 3, 128);
  a->prefill_chunked(ids.data(), nullptr, 1, 3, 0);
  const ia::test::ScratchDir scratch("ssm_cfg");
  const fs::path file = scratch.path() / "state.safetensors";
  a->save_state(file.string());
  EditedCheckpoint ck("mamba/MambaForCausalLM", [](auto& j) { j["layer_norm_epsilon"] = 1e-6; });
  auto b = open_ssm(ck.dir());
  ASSERT_TRUE(b);
  try {
    b->load_state(file.string());
    FAIL() << "a state saved under another config must be rejected";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("config_hash"), std::string::npos) << e.what();
  }
}

// 4.44's multi-chunk torch SSD disagrees with its own recurrent decode; ours is the
// recurrence, so a chunk_size smaller than the sequence changes nothing.
TEST(SsmMamba2, CorrectAcrossChunkBoundaries) {
  auto ref = open_ssm(fixture_dir("mamba2/Mamba2ForCausalLM"));
  EditedCheckpoint ck("mamba2/Mamba2ForCausalLM", [](auto& j) { j["chunk_size"] = 2; });
  auto small = open_ssm(ck.dir());
  ASSERT_TRUE(ref && small);
  EXPECT_EQ(small->params().chunk_size, 2);
  const int64_t B = 1, T = 9;
  auto ids = prompt(B, T, 128, 5);
  std::vector<float> a = chunked_logits(*ref, ids, B, T, 0);
  std::vector<float> b = chunked_logits(*small, ids, B, T, 0);
  std::vector<float> s = stepwise_logits(*small, ids, B, T, 1);
  EXPECT_LT(max_abs_diff(a.data(), b.data(), a.size()), 1e-6);
  EXPECT_LT(max_abs_diff(b.data(), s.data(), b.size()), 2e-5);
}

// RWKV inference-mode rescaling divides out/value weights by 2^(layer // rescale_every)
// and halves the hidden state after every rescale_every-th block; the layer norms make
// the logits (nearly) independent of it. Halving alone, without the weight division,
// would not be.
TEST(SsmRwkv, RescaleEveryKeepsLogits) {
  auto base = open_ssm(fixture_dir("rwkv/RwkvForCausalLM"));
  EditedCheckpoint every1("rwkv/RwkvForCausalLM", [](auto& j) { j["rescale_every"] = 1; });
  EditedCheckpoint off("rwkv/RwkvForCausalLM", [](auto& j) { j["rescale_every"] = 0; });
  auto m1 = open_ssm(every1.dir());
  auto m0 = open_ssm(off.dir());
  ASSERT_TRUE(base && m1 && m0);
  const int64_t B = 1, T = 8;
  auto ids = prompt(B, T, 128, 9);
  std::vector<float> a = chunked_logits(*base, ids, B, T, 0);
  std::vector<float> b = chunked_logits(*m1, ids, B, T, 0);
  std::vector<float> c = chunked_logits(*m0, ids, B, T, 0);
  EXPECT_LT(max_abs_diff(a.data(), c.data(), a.size()), 1e-6);  // 2 layers, rescale_every 6: no effect
  EXPECT_LT(max_abs_diff(a.data(), b.data(), a.size()), 1e-2);  // only layer-norm eps differs
  EXPECT_EQ(m1->describe()["rescale_every"], 1);
}

TEST(SsmConfig, Mamba2HeadsMustCoverIntermediate) {
  EditedCheckpoint ck("mamba2/Mamba2ForCausalLM", [](auto& j) { j["num_heads"] = 3; });
  try {
    load_model(ck.dir());
    FAIL() << "num_heads * head_dim != expand * hidden_size must fail";
  } catch (const Error& e) {
    std::string w = e.what();
    EXPECT_NE(w.find("num_heads"), std::string::npos) << w;
    EXPECT_NE(w.find("config.json"), std::string::npos) << w;
  }
}

TEST(SsmConfig, WrongStateSizeNamesTensor) {
  EditedCheckpoint ck("mamba/MambaForCausalLM", [](auto& j) { j["state_size"] = 4; });
  try {
    load_model(ck.dir());
    FAIL() << "a state_size that does not match the weights must fail";
  } catch (const Error& e) {
    std::string w = e.what();
    EXPECT_NE(w.find("x_proj.weight"), std::string::npos) << w;
    EXPECT_NE(w.find("model.safetensors"), std::string::npos) << w;
  }
}

TEST(SsmConfig, TimeStepRankAuto) {
  EditedCheckpoint ck("mamba/MambaForCausalLM", [](auto& j) {
    j["time_step_rank"] = "auto";  // ceil(32 / 16) = 2, the stored rank
  });
  auto m = open_ssm(ck.dir());
  ASSERT_TRUE(m);
  EXPECT_EQ(m->params().time_step_rank, 2);
}

TEST(SsmConfig, TokenOutOfRange) {
  auto m = open_ssm(fixture_dir("mamba/MambaForCausalLM"));
  ASSERT_TRUE(m);
  TensorMap in{{"input_ids", Tensor::from_vector_i64({1, 500, 2}, {1, 3})}};
  try {
    m->forward(in);
    FAIL() << "id 500 >= vocab 128 must fail";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("500"), std::string::npos) << e.what();
  }
}

TEST(SsmConfig, DescribeAndTasks) {
  for (const char* f : kFixtures) {
    auto m = load_model(fixture_dir(f));
    EXPECT_EQ(m->family(), Family::StateSpace);
    EXPECT_EQ(m->tasks(), std::vector<std::string>{"text-generation"});
    auto d = m->describe();
    EXPECT_EQ(d["template"], "state-space");
    EXPECT_FALSE(d["recurrent_state"]["grows_with_length"].get<bool>());
  }
}

namespace {
// Resident set size in kB from /proc/self/status (0 when unavailable).
long rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}
}  // namespace

// Memory stays flat on long generation: 49k further decode steps after the first 1k
// add nothing (the state is sized once and the work buffers are reused).
TEST(SsmState, FlatMemoryOnLongGeneration) {
  auto m = open_ssm(fixture_dir("mamba/MambaForCausalLM"));
  ASSERT_TRUE(m);
  auto ids = prompt(1, 4, m->vocab());
  m->prefill_chunked(ids.data(), nullptr, 1, 4, 0);
  int64_t tok = 1;
  auto run = [&](int n) {
    for (int i = 0; i < n; ++i) {
      const float* l = m->decode_step(&tok);
      tok = std::max_element(l, l + m->vocab()) - l;
    }
  };
  run(1000);
  const long rss_1k = rss_kb();
  const size_t state_1k = m->state_bytes();
  run(49000);
  const long rss_50k = rss_kb();
  ASSERT_GT(rss_1k, 0) << "no /proc/self/status";
  EXPECT_EQ(m->state_bytes(), state_1k);
  EXPECT_EQ(m->state().tokens(), 50004);
  // A KV cache for 50k tokens of this model would need 2 * layers * 50k * hidden * 4 bytes = 25.6 MB.
#if defined(__SANITIZE_ADDRESS__)
  // ASan's quarantine keeps freed blocks resident, so RSS says nothing here; the Release run
  // checks it. The state-size and token-count checks above still hold under ASan.
  std::printf("[ rss ] not checked under AddressSanitizer (quarantine holds freed memory)\n");
#else
  EXPECT_LT(rss_50k - rss_1k, 256) << "RSS grew from " << rss_1k << " kB to " << rss_50k << " kB";
#endif
  std::printf("[ rss ] after 1k tokens %ld kB, after 50k tokens %ld kB; state %zu bytes; KV-cache equivalent %zu bytes\n",
              rss_1k, rss_50k, m->state_bytes(), m->kv_cache_equivalent_bytes(50004));
}
