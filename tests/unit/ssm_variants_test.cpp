// Config options the fixtures do not vary (biases, conv kernels, expand, groups,
// tied heads, RWKV attention width and rescaling): synthetic checkpoints with
// random weights must load and stay self-consistent (one pass == chunked ==
// step-by-step), and options must have the effect 4.44 gives them.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/safetensors.h"
#include "templates/state_space/state_space_model.h"
#include "scratch_dir.h"

using namespace ia;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  float uniform() {  // [-1, 1)
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return float(double(s >> 11) / double(1ull << 53)) * 2.f - 1.f;
  }
};

// Writes config.json + model.safetensors for a random model; tensors are listed by `spec`.
class SyntheticCheckpoint {
 public:
  using Spec = std::vector<std::pair<std::string, std::pair<Shape, std::function<float(Rng&, int64_t)>>>>;
  SyntheticCheckpoint(const json& config, const Spec& spec, uint64_t seed = 1)
      : scratch_("ssm_syn"), dir_(scratch_.path()) {
    std::ofstream(dir_ / "config.json") << config.dump(2);
    Rng rng(seed);
    std::vector<std::pair<std::string, Tensor>> tensors;
    for (const auto& [name, sh] : spec) {
      Tensor t = Tensor::f32(sh.first);
      for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = sh.second(rng, i);
      tensors.emplace_back(name, t);
    }
    write_safetensors((dir_ / "model.safetensors").string(), tensors, {{"format", "pt"}});
  }
  std::string dir() const { return dir_.string(); }

 private:
  ia::test::ScratchDir scratch_;  // removed with the object
  fs::path dir_;
};

std::function<float(Rng&, int64_t)> dense(int64_t fan_in) {
  const float sc = 1.7f / std::sqrt(float(fan_in));
  return [sc](Rng& r, int64_t) { return r.uniform() * sc; };
}
std::function<float(Rng&, int64_t)> around(float c, float spread) {
  return [c, spread](Rng& r, int64_t) { return c + spread * r.uniform(); };
}

SyntheticCheckpoint::Spec mamba_spec(const json& c, bool lm_head) {
  const int64_t H = c["hidden_size"], V = c["vocab_size"], L = c["num_hidden_layers"], N = c["state_size"],
                K = c["conv_kernel"], R = c["time_step_rank"];
  const int64_t I = c.value("intermediate_size", int64_t(c["expand"].get<double>() * double(H)));
  const bool bias = c["use_bias"], conv_bias = c["use_conv_bias"];
  SyntheticCheckpoint::Spec s = {{"backbone.embeddings.weight", {{V, H}, dense(4)}},
                                 {"backbone.norm_f.weight", {{H}, around(1.f, 0.2f)}}};
  for (int64_t l = 0; l < L; ++l) {
    std::string p = "backbone.layers." + std::to_string(l) + ".";
    s.push_back({p + "norm.weight", {{H}, around(1.f, 0.2f)}});
    s.push_back({p + "mixer.in_proj.weight", {{2 * I, H}, dense(H)}});
    if (bias) s.push_back({p + "mixer.in_proj.bias", {{2 * I}, around(0.f, 0.1f)}});
    s.push_back({p + "mixer.conv1d.weight", {{I, 1, K}, dense(K)}});
    if (conv_bias) s.push_back({p + "mixer.conv1d.bias", {{I}, around(0.f, 0.1f)}});
    s.push_back({p + "mixer.x_proj.weight", {{R + 2 * N, I}, dense(I)}});
    s.push_back({p + "mixer.dt_proj.weight", {{I, R}, dense(R)}});
    s.push_back({p + "mixer.dt_proj.bias", {{I}, around(-3.f, 1.f)}});
    s.push_back({p + "mixer.A_log", {{I, N}, [N](Rng& r, int64_t i) { return std::log(float(i % N + 1)) + 0.1f * r.uniform(); }}});
    s.push_back({p + "mixer.D", {{I}, around(1.f, 0.2f)}});
    s.push_back({p + "mixer.out_proj.weight", {{H, I}, dense(I)}});
    if (bias) s.push_back({p + "mixer.out_proj.bias", {{H}, around(0.f, 0.1f)}});
  }
  if (lm_head) s.push_back({"lm_head.weight", {{V, H}, dense(H)}});
  return s;
}

SyntheticCheckpoint::Spec mamba2_spec(const json& c, bool lm_head, int64_t d_mlp = 0) {
  const int64_t H = c["hidden_size"], V = c["vocab_size"], L = c["num_hidden_layers"], N = c["state_size"],
                K = c["conv_kernel"], NH = c["num_heads"], G = c["n_groups"];
  const int64_t I = int64_t(c["expand"].get<double>() * double(H)), conv_dim = I + 2 * G * N;
  const bool bias = c["use_bias"], conv_bias = c["use_conv_bias"];
  SyntheticCheckpoint::Spec s = {{"backbone.embeddings.weight", {{V, H}, dense(4)}},
                                 {"backbone.norm_f.weight", {{H}, around(1.f, 0.2f)}}};
  for (int64_t l = 0; l < L; ++l) {
    std::string p = "backbone.layers." + std::to_string(l) + ".";
    s.push_back({p + "norm.weight", {{H}, around(1.f, 0.2f)}});
    s.push_back({p + "mixer.in_proj.weight", {{2 * d_mlp + I + conv_dim + NH, H}, dense(H)}});
    if (bias) s.push_back({p + "mixer.in_proj.bias", {{2 * d_mlp + I + conv_dim + NH}, around(0.f, 0.1f)}});
    s.push_back({p + "mixer.conv1d.weight", {{conv_dim, 1, K}, dense(K)}});
    if (conv_bias) s.push_back({p + "mixer.conv1d.bias", {{conv_dim}, around(0.f, 0.1f)}});
    s.push_back({p + "mixer.dt_bias", {{NH}, around(0.f, 0.5f)}});
    s.push_back({p + "mixer.A_log", {{NH}, [](Rng& r, int64_t i) { return std::log(float(i + 1)) + 0.1f * r.uniform(); }}});
    s.push_back({p + "mixer.D", {{NH}, around(1.f, 0.2f)}});
    s.push_back({p + "mixer.norm.weight", {{I}, around(1.f, 0.2f)}});
    s.push_back({p + "mixer.out_proj.weight", {{H, I}, dense(I)}});
    if (bias) s.push_back({p + "mixer.out_proj.bias", {{H}, around(0.f, 0.1f)}});
  }
  if (lm_head) s.push_back({"lm_head.weight", {{V, H}, dense(H)}});
  return s;
}

SyntheticCheckpoint::Spec rwkv_spec(int64_t H, int64_t A, int64_t F, int64_t V, int64_t L, bool head) {
  SyntheticCheckpoint::Spec s = {{"rwkv.embeddings.weight", {{V, H}, dense(4)}},
                                 {"rwkv.ln_out.weight", {{H}, around(1.f, 0.2f)}},
                                 {"rwkv.ln_out.bias", {{H}, around(0.f, 0.1f)}}};
  for (int64_t l = 0; l < L; ++l) {
    std::string p = "rwkv.blocks." + std::to_string(l) + ".";
    for (const char* ln : {"ln1", "ln2", "pre_ln"}) {
      if (std::string(ln) == "pre_ln" && l != 0) continue;
      s.push_back({p + ln + ".weight", {{H}, around(1.f, 0.2f)}});
      s.push_back({p + ln + ".bias", {{H}, around(0.f, 0.1f)}});
    }
    s.push_back({p + "attention.time_decay", {{A}, around(-1.f, 2.f)}});
    s.push_back({p + "attention.time_first", {{A}, around(0.f, 1.f)}});
    for (const char* m : {"time_mix_key", "time_mix_value", "time_mix_receptance"})
      s.push_back({p + "attention." + m, {{1, 1, H}, around(0.5f, 0.5f)}});
    s.push_back({p + "attention.key.weight", {{A, H}, dense(H)}});
    s.push_back({p + "attention.value.weight", {{A, H}, dense(H)}});
    s.push_back({p + "attention.receptance.weight", {{A, H}, dense(H)}});
    s.push_back({p + "attention.output.weight", {{H, A}, dense(A)}});
    for (const char* m : {"time_mix_key", "time_mix_receptance"})
      s.push_back({p + "feed_forward." + m, {{1, 1, H}, around(0.5f, 0.5f)}});
    s.push_back({p + "feed_forward.key.weight", {{F, H}, dense(H)}});
    s.push_back({p + "feed_forward.receptance.weight", {{H, H}, dense(H)}});
    s.push_back({p + "feed_forward.value.weight", {{H, F}, dense(F)}});
  }
  if (head) s.push_back({"head.weight", {{V, H}, dense(H)}});
  return s;
}

std::unique_ptr<StateSpaceModel> open_ssm(const std::string& dir) {
  std::unique_ptr<Model> m = load_model(dir);
  auto* s = dynamic_cast<StateSpaceModel*>(m.get());
  if (!s) return nullptr;
  m.release();
  return std::unique_ptr<StateSpaceModel>(s);
}

std::vector<float> logits_chunked(StateSpaceModel& m, const std::vector<int64_t>& ids, int64_t B, int64_t T, int64_t chunk) {
  m.reset_state(B);
  const float* h = m.feed(ids.data(), nullptr, T, chunk);
  std::vector<float> out(size_t(B * T * m.vocab()));
  m.logits_of(h, B * T, out.data());
  return out;
}

std::vector<float> logits_stepwise(StateSpaceModel& m, const std::vector<int64_t>& ids, int64_t B, int64_t T) {
  const int64_t V = m.vocab();
  std::vector<float> out(size_t(B * T * V));
  m.reset_state(B);
  std::vector<int64_t> tok(static_cast<size_t>(B));
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t b = 0; b < B; ++b) tok[size_t(b)] = ids[size_t(b * T + t)];
    const float* h = m.feed(tok.data(), nullptr, 1, 0);
    std::vector<float> l(size_t(B * V));
    m.logits_of(h, B, l.data());
    for (int64_t b = 0; b < B; ++b) std::memcpy(out.data() + (b * T + t) * V, l.data() + b * V, size_t(V) * 4);
  }
  return out;
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, double(std::fabs(a[i] - b[i])));
  return m;
}

void expect_self_consistent(StateSpaceModel& m, const std::string& what) {
  const int64_t B = 2, T = 10;
  std::vector<int64_t> ids(size_t(B * T));
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = int64_t((i * 37 + 11) % size_t(m.vocab()));
  auto full = logits_chunked(m, ids, B, T, 0);
  for (float v : full) ASSERT_TRUE(std::isfinite(v)) << what;
  EXPECT_LT(max_diff(full, logits_chunked(m, ids, B, T, 3)), 3e-5) << what << " chunk 3";
  EXPECT_LT(max_diff(full, logits_stepwise(m, ids, B, T)), 3e-5) << what << " step by step";
}

json mamba_config() {
  return {{"architectures", {"MambaForCausalLM"}}, {"model_type", "mamba"}, {"vocab_size", 40}, {"hidden_size", 16},
          {"num_hidden_layers", 2}, {"state_size", 4}, {"expand", 2}, {"conv_kernel", 4}, {"time_step_rank", 1},
          {"use_bias", false}, {"use_conv_bias", true}, {"layer_norm_epsilon", 1e-5}, {"hidden_act", "silu"}};
}

json mamba2_config() {
  return {{"architectures", {"Mamba2ForCausalLM"}}, {"model_type", "mamba2"}, {"vocab_size", 40}, {"hidden_size", 16},
          {"num_hidden_layers", 2}, {"state_size", 8}, {"expand", 2}, {"conv_kernel", 4}, {"num_heads", 4},
          {"head_dim", 8}, {"n_groups", 1}, {"use_bias", false}, {"use_conv_bias", true}, {"chunk_size", 4},
          {"tie_word_embeddings", false}, {"layer_norm_epsilon", 1e-5}, {"hidden_act", "silu"}};
}

}  // namespace

TEST(SsmVariants, MambaBiasesKernelsExpandAndTiedHead) {
  struct V {
    const char* name;
    std::function<void(json&)> edit;
  } variants[] = {
      {"use_bias", [](json& c) { c["use_bias"] = true; }},
      {"no conv bias", [](json& c) { c["use_conv_bias"] = false; }},
      {"conv_kernel 2", [](json& c) { c["conv_kernel"] = 2; }},
      {"conv_kernel 1", [](json& c) { c["conv_kernel"] = 1; }},
      {"conv_kernel 6", [](json& c) { c["conv_kernel"] = 6; }},
      {"expand 3, rank 3", [](json& c) { c["expand"] = 3; c["time_step_rank"] = 3; }},
      {"intermediate_size overrides expand", [](json& c) { c["intermediate_size"] = 24; }},
      {"gelu act", [](json& c) { c["hidden_act"] = "gelu"; }},
  };
  for (const auto& v : variants) {
    json c = mamba_config();
    v.edit(c);
    SyntheticCheckpoint ck(c, mamba_spec(c, false));  // tie_word_embeddings defaults to true for mamba
    auto m = open_ssm(ck.dir());
    ASSERT_TRUE(m) << v.name;
    expect_self_consistent(*m, v.name);
  }
  json c = mamba_config();
  c["tie_word_embeddings"] = false;
  {
    SyntheticCheckpoint missing(c, mamba_spec(c, false));
    EXPECT_THROW(load_model(missing.dir()), Error) << "untied head without lm_head.weight must fail";
  }
  SyntheticCheckpoint untied(c, mamba_spec(c, true));
  auto m = open_ssm(untied.dir());
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->describe()["lm_head"]["tied"].get<bool>());
  expect_self_consistent(*m, "untied");
}

TEST(SsmVariants, Mamba2GroupsKernelsBiasesAndChunks) {
  struct V {
    const char* name;
    std::function<void(json&)> edit;
    int64_t d_mlp;
  } variants[] = {
      {"base", [](json&) {}, 0},
      {"n_groups 2", [](json& c) { c["n_groups"] = 2; }, 0},
      {"n_groups 4", [](json& c) { c["n_groups"] = 4; }, 0},
      {"use_bias, no conv bias", [](json& c) { c["use_bias"] = true; c["use_conv_bias"] = false; }, 0},
      {"conv_kernel 2", [](json& c) { c["conv_kernel"] = 2; }, 0},
      {"d_mlp rows in in_proj", [](json&) {}, 3},
      {"time_step_min 0.5", [](json& c) { c["time_step_min"] = 0.5; }, 0},
      {"heads 8 x 4", [](json& c) { c["num_heads"] = 8; c["head_dim"] = 4; c["n_groups"] = 2; }, 0},
  };
  for (const auto& v : variants) {
    json c = mamba2_config();
    v.edit(c);
    SyntheticCheckpoint ck(c, mamba2_spec(c, true, v.d_mlp));
    auto m = open_ssm(ck.dir());
    ASSERT_TRUE(m) << v.name;
    expect_self_consistent(*m, v.name);
  }
  // time_step_min is a floor on dt: raising it changes the outputs.
  json a = mamba2_config(), b = mamba2_config();
  b["time_step_min"] = 0.5;
  SyntheticCheckpoint ca(a, mamba2_spec(a, true)), cb(b, mamba2_spec(b, true));
  auto ma = open_ssm(ca.dir()), mb = open_ssm(cb.dir());
  std::vector<int64_t> ids = {1, 2, 3, 4, 5, 6};
  EXPECT_GT(max_diff(logits_chunked(*ma, ids, 1, 6, 0), logits_chunked(*mb, ids, 1, 6, 0)), 1e-4);
}

TEST(SsmVariants, Mamba2PaddingOnlyTouchesPaddedRows) {
  json c = mamba2_config();
  SyntheticCheckpoint ck(c, mamba2_spec(c, true));
  auto m = open_ssm(ck.dir());
  ASSERT_TRUE(m);
  const int64_t T = 6, V = m->vocab();
  std::vector<int64_t> ids = {1, 2, 3, 4, 5, 6, /* row 1 left-padded */ 0, 0, 7, 8, 9, 10};
  std::vector<int64_t> mask = {1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1};
  TensorMap in{{"input_ids", Tensor::from_vector_i64(ids, {2, T})}, {"attention_mask", Tensor::from_vector_i64(mask, {2, T})}};
  TensorMap unmasked{{"input_ids", Tensor::from_vector_i64(ids, {2, T})}};
  Tensor lm = m->forward(in)["logits"], lu = m->forward(unmasked)["logits"];
  // Row 0 has no padding: identical either way. Row 1's padding is masked: its logits change.
  double row0 = 0, row1 = 0;
  for (int64_t i = 0; i < T * V; ++i) {
    row0 = std::max(row0, double(std::fabs(lm.f32()[i] - lu.f32()[i])));
    row1 = std::max(row1, double(std::fabs(lm.f32()[T * V + i] - lu.f32()[T * V + i])));
  }
  EXPECT_EQ(row0, 0.0);
  EXPECT_GT(row1, 1e-6);
  // Chunked prefill with the same mask gives the same last logits.
  const float* l0 = m->prefill_chunked(ids.data(), mask.data(), 2, T, 0);
  std::vector<float> one(l0, l0 + 2 * V);
  const float* l1 = m->prefill_chunked(ids.data(), mask.data(), 2, T, 4);
  for (int64_t i = 0; i < 2 * V; ++i) EXPECT_NEAR(one[size_t(i)], l1[i], 3e-5);
}

TEST(SsmVariants, RwkvAttentionWidthIntermediateDefaultAndRescale) {
  const int64_t H = 16, V = 40;
  for (int64_t layers : {3, 4}) {
    for (int64_t rescale : {0, 1, 2}) {
      json c = {{"architectures", {"RwkvForCausalLM"}}, {"model_type", "rwkv"}, {"vocab_size", V}, {"hidden_size", H},
                {"num_hidden_layers", layers}, {"attention_hidden_size", 24}, {"rescale_every", rescale},
                {"layer_norm_epsilon", 1e-5}, {"tie_word_embeddings", rescale == 2}};
      // intermediate_size absent: 4 * hidden_size
      SyntheticCheckpoint ck(c, rwkv_spec(H, 24, 4 * H, V, layers, rescale != 2), 5);
      auto m = open_ssm(ck.dir());
      ASSERT_TRUE(m) << layers << " " << rescale;
      EXPECT_EQ(m->params().rwkv_intermediate, 4 * H);
      expect_self_consistent(*m, "rwkv rescale " + std::to_string(rescale));
    }
  }
  // Rescaling leaves logits unchanged up to layer-norm eps (weights / 2^k paired with halving).
  auto make = [&](int64_t rescale) {
    json c = {{"architectures", {"RwkvForCausalLM"}}, {"model_type", "rwkv"}, {"vocab_size", V}, {"hidden_size", H},
              {"num_hidden_layers", 4}, {"attention_hidden_size", 24}, {"intermediate_size", 20},
              {"rescale_every", rescale}, {"layer_norm_epsilon", 1e-5}};
    return std::make_unique<SyntheticCheckpoint>(c, rwkv_spec(H, 24, 20, V, 4, true), 9);
  };
  auto c0 = make(0), c1 = make(1), c3 = make(3);
  auto m0 = open_ssm(c0->dir()), m1 = open_ssm(c1->dir()), m3 = open_ssm(c3->dir());
  std::vector<int64_t> ids = {1, 5, 9, 13, 17, 21, 25};
  auto l0 = logits_chunked(*m0, ids, 1, 7, 0);
  EXPECT_LT(max_diff(l0, logits_chunked(*m1, ids, 1, 7, 0)), 2e-2);
  EXPECT_LT(max_diff(l0, logits_chunked(*m3, ids, 1, 7, 0)), 2e-2);
}
