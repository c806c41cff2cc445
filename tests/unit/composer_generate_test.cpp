// generate: the emitted program's composition constants, handlers decided by
// execution, bundled model with a word-level tokenizer, and the runtime it calls
// (Session) refusing other models and answering exactly as `ipfs-accelerate run`.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "composer/bundled_model.h"
#include "composer/generate.h"
#include "composer/generated_runtime.h"
#include "core/error.h"
#include "scratch_dir.h"

using namespace ia;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string models_root() { return (fs::path(IA_FIXTURES_DIR) / "models").string(); }

using ia::test::ScratchDir;

// The (not yet existing) "out" folder of a scratch directory: where a test generates a program.
fs::path out_dir(const ScratchDir& scratch) { return scratch.path() / "out"; }

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string run_command(const std::string& cmd) {
  std::string out;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) out.append(buf.data(), n);
  ::pclose(f);
  return out;
}

// Removes the per-run timing figures from a result.
json without_timing(json j) {
  if (j.contains("generation"))
    for (auto& g : j["generation"]) {
      g.erase("prefill_tokens_per_second");
      g.erase("decode_tokens_per_second");
    }
  return j;
}

GenerateRequest request(const std::string& target, const fs::path& out) {
  GenerateRequest r;
  r.target = target;
  r.out_dir = out.string();
  r.models_root = models_root();
  return r;
}

}  // namespace

TEST(Generate, DecoderProgramFixesItsComposition) {
  const ScratchDir scratch("gen_gpt2");
  fs::path out = out_dir(scratch);
  GeneratedProgram p = generate_program(request("gpt2", out));
  EXPECT_EQ(p.program, "hf_gpt2");
  EXPECT_EQ(p.family, "decoder-only");
  ASSERT_EQ(p.handlers, std::vector<std::string>{"text-generation"});
  std::string src = read_file(p.source_file);
  EXPECT_NE(src.find("constexpr const char* kModelType = \"gpt2\";"), std::string::npos);
  EXPECT_NE(src.find("constexpr int64_t kHiddenSize = 32;"), std::string::npos);
  EXPECT_NE(src.find("rt::HardwareInit init_cpu()"), std::string::npos);
  EXPECT_NE(src.find("rt::HardwareInit init_cuda()"), std::string::npos);
  EXPECT_NE(src.find("handle_text_generation"), std::string::npos);
  // transformers' greedy continuation of the reference prompt is the self-test's expectation.
  EXPECT_NE(src.find("\"52 52 52 67 49 49 80 80\""), std::string::npos);
  EXPECT_EQ(src.find("nlohmann"), std::string::npos) << "generated code must stay free of the JSON library";
  EXPECT_TRUE(fs::exists(fs::path(p.model_dir) / "tokenizer.json"));
  EXPECT_TRUE(fs::exists(fs::path(p.model_dir) / "model.safetensors"));
  EXPECT_NE(read_file(out / "CMakeLists.txt").find("ia_generated_program(hf_gpt2 "), std::string::npos);
}

TEST(Generate, EncoderHandlersComeFromItsHeads) {
  const ScratchDir scratch("gen_bert");
  fs::path out = out_dir(scratch);
  GeneratedProgram p = generate_program(request("bert", out));
  // The fixture with the most tasks (masked LM) is bundled; both of its tasks run.
  EXPECT_NE(p.fixture.find("BertForMaskedLM"), std::string::npos) << p.fixture;
  EXPECT_EQ(p.handlers, (std::vector<std::string>{"fill-mask", "feature-extraction"}));
  GenerateRequest only = request("bert", out);
  only.task = "feature-extraction";
  EXPECT_EQ(generate_program(only).handlers, std::vector<std::string>{"feature-extraction"});
  only.task = "text-generation";
  EXPECT_THROW(generate_program(only), Error);
}

TEST(Generate, RefusesWhatCannotBeGenerated) {
  const ScratchDir scratch("gen_bad");
  fs::path out = out_dir(scratch);
  EXPECT_THROW(generate_program(request("not_a_model_type", out)), Error);
  // A transformers model type outside every family has no architecture template.
  EXPECT_THROW(generate_program(request("time_series_transformer", out)), Error);
  GenerateRequest r = request("gpt2", out);
  r.hardware = {"abacus"};
  EXPECT_THROW(generate_program(r), Error);
}

TEST(Generate, SessionRefusesAnotherModel) {
  const ScratchDir scratch("gen_session");
  fs::path out = out_dir(scratch);
  GeneratedProgram p = generate_program(request("gpt2", out));
  const char* params = R"({"template": "decoder-only"})";
  generated::Composition wrong_type{"llama", "decoder-only", "GPT2LMHeadModel", "text", params};
  EXPECT_THROW(generated::Session(wrong_type, p.model_dir), Error);
  generated::Composition wrong_params{"gpt2", "decoder-only", "GPT2LMHeadModel", "text", params};
  try {
    generated::Session s(wrong_params, p.model_dir);
    FAIL() << "template parameters that differ must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("template parameters differ"), std::string::npos) << e.what();
  }
}

TEST(Generate, SessionAnswersExactlyAsRun) {
  const ScratchDir scratch("gen_same");
  fs::path out = out_dir(scratch);
  GeneratedProgram p = generate_program(request("gpt2", out));
  // The composition the program was generated with (read back from its source).
  std::string src = read_file(p.source_file);
  size_t a = src.find("R\"ia_params(") + 12, b = src.find(")ia_params\"");
  std::string params = src.substr(a, b - a);
  generated::Composition c{"gpt2", "decoder-only", "GPT2LMHeadModel", "text", params.c_str()};
  generated::Session s(c, p.model_dir);
  BundledModel m = read_bundled_model(p.fixture);
  std::string prompt = probe_text(m, "text-generation");
  generated::TaskResult r = s.run("text-generation", generated::text_request(prompt, 6));
  ASSERT_TRUE(r.success) << r.error;
  EXPECT_EQ(r.generated_ids.size(), 6u);
  EXPECT_GT(r.tokens, 6);
  std::string cli = run_command(std::string(IA_CLI_PATH) + " run '" + p.model_dir + "' --task text-generation --input '" +
                                prompt + "' --max-new-tokens 6 --json");
  EXPECT_EQ(without_timing(json::parse(r.json)), without_timing(json::parse(cli)));
  generated::TaskResult bad = s.run("fill-mask", generated::text_request(prompt, -1));
  EXPECT_FALSE(bad.success);
  EXPECT_FALSE(bad.error.empty());
}

TEST(Generate, HardwareInitIsHonest) {
  EXPECT_TRUE(generated::init_hardware("cpu").usable());
  generated::HardwareInit none = generated::init_hardware("abacus");
  EXPECT_FALSE(none.usable());
  EXPECT_NE(none.detail.find("no hardware template"), std::string::npos);
}

TEST(BundledModel, TokenizerSpellsTheReferenceIds) {
  BundledModel m = read_bundled_model((fs::path(models_root()) / "gpt2" / "GPT2LMHeadModel").string());
  EXPECT_EQ(m.prompt_ids, (std::vector<int64_t>{28, 49, 59, 118, 69, 67, 60}));
  EXPECT_EQ(m.expected_new_ids, (std::vector<int64_t>{52, 52, 52, 67, 49, 49, 80, 80}));
  EXPECT_EQ(m.max_new_tokens, 8);
  EXPECT_EQ(m.vocab, 128);
  EXPECT_EQ(m.mask_id, 59);
  EXPECT_EQ(probe_text(m, "text-generation"), "w28 w49 [MASK] w118 w69 w67 w60");
  EXPECT_THROW(read_bundled_model((fs::path(models_root()) / "no_such").string()), Error);
}
