// The moe and state-space pipeline results on bundled checkpoints with a
// word-level tokenizer: generated tokens match the transformers references,
// expert_info agrees with the router logits of a forward pass over the same
// tokens, state_info reports real chunking, and --save-state / --load-state
// continue identically through the CLI.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "pipelines/moe_pipeline.h"
#include "pipelines/state_space_pipeline.h"
#include "templates/moe/moe_model.h"
#include "templates/moe/switch_model.h"

using namespace ia;

#include "pipelines_test_util.h"

namespace {

const std::vector<int64_t> kPrompt = {28, 49, 59, 118, 69, 67, 60};  // the references' generate prompt

TextRequest request(const std::string& task, const std::vector<int64_t>& ids, int64_t max_new,
                    const GenerationSettings& defaults) {
  TextRequest req;
  req.task = task;
  req.inputs = {words(ids)};
  req.generation = defaults;
  req.generation.max_new_tokens = max_new;
  return req;
}

// Top-k expert ids of one router-logit row (ties -> lower id, as torch.topk on distinct values).
std::vector<int32_t> top_k(const float* row, int64_t E, int64_t k) {
  std::vector<int32_t> idx(static_cast<size_t>(E));
  for (int64_t e = 0; e < E; ++e) idx[size_t(e)] = int32_t(e);
  std::stable_sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) { return row[a] > row[b]; });
  idx.resize(size_t(k));
  return idx;
}

std::string run_cli(const std::string& args) {
  std::string cmd = std::string(IA_CLI_PATH) + " run " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  pclose(p);
  return out;
}

}  // namespace

TEST(MoePipeline, GenerationMatchesReferenceAndExpertInfoMatchesRouterLogits) {
  const ScratchDir dir_scratch = model_with_tokenizer("mixtral/MixtralForCausalLM", 128, {});
  std::string dir = dir_scratch.str();
  MoePipeline pipe(dir);
  json r = pipe.run(request("text-generation", kPrompt, 8, pipe.generation_defaults()), MoeOptions{});
  ASSERT_TRUE(r["success"].get<bool>()) << r.dump();
  const std::vector<int64_t> expect = {51, 102, 81, 108, 43, 83, 31, 11};  // reference new_token_ids
  EXPECT_EQ(r["generation"][0]["token_ids"].get<std::vector<int64_t>>(), expect);
  EXPECT_EQ(r["moe_generation"], words(expect));
  const json& info = r["expert_info"];
  const int64_t k = info["experts_per_token"], E = info["num_experts"];
  EXPECT_FALSE(info["experts_per_token_overridden"].get<bool>());

  // The routed positions: prompt + every generated token but the last.
  std::vector<int64_t> seq = kPrompt;
  seq.insert(seq.end(), expect.begin(), expect.end() - 1);
  const int64_t N = int64_t(seq.size());
  ModelContext ctx = ModelContext::open(dir);
  ctx.checkpoint = Checkpoint::open_dir(dir);
  MoeModel ref(ctx);
  TensorMap out = ref.forward({{"input_ids", Tensor::from_vector_i64(seq, {1, N})}});
  ASSERT_EQ(info["layers"].size(), ref.moe_layers().size());
  for (size_t j = 0; j < ref.moe_layers().size(); ++j) {
    const json& L = info["layers"][j];
    EXPECT_EQ(L["tokens"], N);
    const Tensor& lg = out.at("router_logits." + std::to_string(j));
    std::vector<int64_t> counts(size_t(E), 0);
    for (int64_t p = 0; p < N; ++p) {
      std::vector<int32_t> want = top_k(lg.f32() + p * E, E, k);
      std::vector<int32_t> got = info["per_token"][0]["tokens"][p]["routing"][j]["experts"];
      EXPECT_EQ(got, want) << "layer " << j << " position " << p;
      for (int32_t e : want) counts[size_t(e)]++;
    }
    EXPECT_EQ(L["expert_counts"].get<std::vector<int64_t>>(), counts);
    int64_t combos = 0;
    for (const auto& c : L["combinations"]) combos += c["count"].get<int64_t>();
    EXPECT_LE(combos, N);
    EXPECT_EQ(L["top_experts"][0]["count"], *std::max_element(counts.begin(), counts.end()));
  }
  // Position P-1 produced the first new token.
  EXPECT_EQ(info["per_token"][0]["tokens"][kPrompt.size() - 1]["produced_token_id"], expect[0]);
  EXPECT_EQ(info["per_token"][0]["tokens"][kPrompt.size()]["phase"], "generated");
}

TEST(MoePipeline, ExpertsPerTokenOverrideIsAppliedAndReported) {
  const ScratchDir dir_scratch = model_with_tokenizer("mixtral/MixtralForCausalLM", 128, {});
  std::string dir = dir_scratch.str();
  MoePipeline pipe(dir);
  json r = pipe.run(request("text-generation", kPrompt, 3, pipe.generation_defaults()), MoeOptions{1});
  ASSERT_TRUE(r["success"].get<bool>()) << r.dump();
  const json& info = r["expert_info"];
  EXPECT_EQ(info["experts_per_token"], 1);
  EXPECT_TRUE(info["experts_per_token_overridden"].get<bool>());
  for (const auto& t : info["per_token"][0]["tokens"])
    for (const auto& l : t["routing"]) EXPECT_EQ(l["experts"].size(), 1u);
  json bad = pipe.run(request("text-generation", kPrompt, 3, pipe.generation_defaults()), MoeOptions{99});
  EXPECT_FALSE(bad["success"].get<bool>());
}

TEST(MoePipeline, SwitchText2TextMatchesReferenceAndEncoderRouting) {
  const ScratchDir dir_scratch = model_with_tokenizer("switch_transformers/SwitchTransformersForConditionalGeneration", 128, {});
  std::string dir = dir_scratch.str();
  MoePipeline pipe(dir);
  std::vector<int64_t> src = {28, 49, 59, 118, 69, 67, 60, 3};
  json r = pipe.run(request("text2text-generation", src, 8, pipe.generation_defaults()), MoeOptions{});
  ASSERT_TRUE(r["success"].get<bool>()) << r.dump();
  const std::vector<int64_t> expect = {92, 18, 74, 18, 50, 50, 50, 50};
  EXPECT_EQ(r["generation"][0]["token_ids"].get<std::vector<int64_t>>(), expect);
  const json& info = r["expert_info"];
  ASSERT_EQ(info["layers"].size(), 2u);
  EXPECT_EQ(info["layers"][0]["layer"], "encoder.block.1");
  EXPECT_EQ(info["layers"][1]["layer"], "decoder.block.1");
  EXPECT_EQ(info["layers"][0]["dropped_tokens"], 0);
  // Encoder routing equals the reference's encoder_expert_index.1 for this row.
  const std::vector<int64_t> ref_experts = [] {
    json j = json::parse(std::ifstream(fs::path(IA_FIXTURES_DIR) / "models" / "switch_transformers" /
                                       "SwitchTransformersForConditionalGeneration" / "reference.json"));
    return j["cases"][0]["outputs"]["encoder_expert_index.1"]["values"][0].get<std::vector<int64_t>>();
  }();
  ASSERT_EQ(info["per_token"][0]["stack"], "encoder");
  for (size_t p = 0; p < src.size(); ++p)
    EXPECT_EQ(info["per_token"][0]["tokens"][p]["routing"][0]["experts"][0].get<int64_t>(), ref_experts[p]);
  EXPECT_EQ(info["per_token"][1]["positions"], 8);
  json bad = pipe.run(request("text2text-generation", src, 2, pipe.generation_defaults()), MoeOptions{2});
  EXPECT_FALSE(bad["success"].get<bool>());
}

TEST(StateSpacePipeline, ChunkedGenerationMatchesReferenceAndReportsState) {
  for (const auto& [fixture, expect] :
       std::vector<std::pair<std::string, std::vector<int64_t>>>{{"mamba/MambaForCausalLM", {60, 68, 83, 83, 83, 83, 120, 95}},
                                                                 {"rwkv/RwkvForCausalLM", {55, 86, 21, 21, 92, 39, 71, 71}}}) {
    const ScratchDir dir_scratch = model_with_tokenizer(fixture, 128, {});
    std::string dir = dir_scratch.str();
    StateSpacePipeline pipe(dir);
    json r = pipe.run(request("text-generation", kPrompt, 8, pipe.generation_defaults()), StateSpaceOptions{3, "", ""});
    ASSERT_TRUE(r["success"].get<bool>()) << r.dump();
    EXPECT_EQ(r["generation"]["token_ids"].get<std::vector<int64_t>>(), expect) << fixture;
    const json& s = r["state_info"];
    EXPECT_EQ(s["chunks_processed"], 3);  // 7 prompt tokens in chunks of 3
    EXPECT_DOUBLE_EQ(s["tokens_per_chunk"].get<double>(), 7.0 / 3.0);
    EXPECT_EQ(s["tokens_decoded"], 7);
    EXPECT_EQ(s["tokens_in_state"], 14);
    EXPECT_GT(s["state_bytes"].get<int64_t>(), 0);
    EXPECT_GT(s["kv_cache_bytes_same_length"].get<int64_t>(), 0);
    EXPECT_GT(s["decode_tokens_per_second"].get<double>(), 0.0);
  }
}

TEST(StateSpacePipeline, SaveThenLoadStateContinuesIdenticallyThroughTheCli) {
  const ScratchDir dir_scratch = model_with_tokenizer("mamba/MambaForCausalLM", 128, {});
  std::string dir = dir_scratch.str();
  const std::string state = dir_scratch.file("state.st");
  // One run: prompt A + B, 6 new tokens.
  const std::vector<int64_t> a = {28, 49, 59}, b = {118, 69, 67, 60};
  std::vector<int64_t> ab = a;
  ab.insert(ab.end(), b.begin(), b.end());
  json whole = json::parse(run_cli(dir + " --input '" + words(ab) + "' --max-new-tokens 6 --json"));
  ASSERT_TRUE(whole["success"].get<bool>()) << whole.dump();
  EXPECT_EQ(whole["generation"]["token_ids"].get<std::vector<int64_t>>(), (std::vector<int64_t>{60, 68, 83, 83, 83, 83}));
  // Two runs: A (state saved), then B continued from the file.
  json first = json::parse(run_cli(dir + " --input '" + words(a) + "' --max-new-tokens 0 --save-state " + state + " --json"));
  ASSERT_TRUE(first["success"].get<bool>()) << first.dump();
  EXPECT_EQ(first["state_info"]["tokens_in_state"], 3);
  json second = json::parse(
      run_cli(dir + " --input '" + words(b) + "' --max-new-tokens 6 --load-state " + state + " --chunk-size 2 --json"));
  ASSERT_TRUE(second["success"].get<bool>()) << second.dump();
  EXPECT_EQ(second["generation"]["token_ids"], whole["generation"]["token_ids"]);
  EXPECT_EQ(second["state_info"]["continued_from_tokens"], 3);
  // Saving after generation keeps the generated tokens: continuing with nothing new
  // but the next token reproduces the one-shot continuation.
  json gen3 = json::parse(run_cli(dir + " --input '" + words(ab) + "' --max-new-tokens 3 --save-state " + state + " --json"));
  ASSERT_TRUE(gen3["success"].get<bool>()) << gen3.dump();
  EXPECT_EQ(gen3["state_info"]["tokens_in_state"], 10);
  json more = json::parse(run_cli(dir + " --input 'w83' --max-new-tokens 2 --load-state " + state + " --json"));
  ASSERT_TRUE(more["success"].get<bool>()) << more.dump();
  std::vector<int64_t> abg = ab;
  for (int64_t t : {60, 68, 83, 83}) abg.push_back(t);
  json direct = json::parse(run_cli(dir + " --input '" + words(abg) + "' --max-new-tokens 2 --json"));
  EXPECT_EQ(more["generation"]["token_ids"], direct["generation"]["token_ids"]);
  // Flags on the wrong family are a clear error.
  json wrong = json::parse(run_cli(dir + " --input 'w1' --experts-per-token 2 --json"));
  EXPECT_FALSE(wrong["success"].get<bool>());
}
