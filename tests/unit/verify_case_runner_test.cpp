// The per-case wrapper every `verify` runner shares (verify/case_runner.h) and the
// error paths of the runners built on it: broken copies of bundled fixtures of each
// kind must give the same FAIL / UNSUPPORTED lines, never a crash or a silent skip.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.h"
#include "scratch_dir.h"
#include "verify/case_runner.h"
#include "verify/verify.h"

using namespace ia;
namespace fs = std::filesystem;
using json = nlohmann::json;
using ia::test::ScratchDir;

namespace {

const fs::path kFixtures = fs::path(IA_FIXTURES_DIR);

json read_json(const fs::path& p) { return json::parse(std::ifstream(p)); }
void write_json(const fs::path& p, const json& j) { std::ofstream(p) << j.dump(1); }

// Copies a fixture directory (recursively) to root/name and returns the copy.
fs::path copy_fixture(const ScratchDir& root, const fs::path& src, const std::string& name) {
  const fs::path dst = root.path() / name;
  fs::copy(src, dst, fs::copy_options::recursive);
  return dst;
}

// Runs `verify` over root and returns its lines (the summary last).
std::vector<std::string> verify_lines(const ScratchDir& root, VerifySummary* summary = nullptr) {
  std::ostringstream os;
  VerifySummary s = verify_root(root.str(), VerifyOptions{}, os);
  if (summary) *summary = s;
  std::vector<std::string> lines;
  std::istringstream in(os.str());
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool has_line_starting(const std::vector<std::string>& lines, const std::string& prefix) {
  for (const auto& l : lines)
    if (l.rfind(prefix, 0) == 0) return true;
  return false;
}

std::string all(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

}  // namespace

TEST(VerifyCaseRunner, BodyOutcomesBecomeTheCaseStatus) {
  CaseResult pass = run_verify_case("dir", "ok", [](CaseResult& r) { r.max_abs_err = 0.5; });
  EXPECT_EQ(pass.status, CaseStatus::Pass);
  EXPECT_EQ(pass.fixture, "dir");
  EXPECT_EQ(pass.case_name, "ok");
  EXPECT_EQ(pass.max_abs_err, 0.5);
  EXPECT_GE(pass.seconds, 0.0);

  CaseResult unsup = run_verify_case("dir", "u", [](CaseResult&) { throw Unsupported("not built in"); });
  EXPECT_EQ(unsup.status, CaseStatus::Unsupported);
  EXPECT_EQ(unsup.detail, "not built in");

  CaseResult err = run_verify_case("dir", "e", [](CaseResult&) { fail("config.json: field x is missing"); });
  EXPECT_EQ(err.status, CaseStatus::Fail);
  EXPECT_EQ(err.detail, "config.json: field x is missing");

  CaseResult other = run_verify_case("dir", "o", [](CaseResult&) { throw std::out_of_range("index 9"); });
  EXPECT_EQ(other.status, CaseStatus::Fail);
  EXPECT_EQ(other.detail, "index 9");

  // A body's own failure keeps its first difference.
  CaseResult diff = run_verify_case("dir", "d", [](CaseResult& r) {
    fail_case(r, "a: first differs");
    fail_case(r, "b: later");
  });
  EXPECT_EQ(diff.status, CaseStatus::Fail);
  EXPECT_EQ(diff.detail, "a: first differs");
  EXPECT_EQ(format_case_line(diff), "FAIL dir d max_abs_err=0 -- a: first differs");
}

TEST(VerifyCaseRunner, LoadFailuresFanOutToEveryCase) {
  const json cases = json::array({{{"name", "forward"}}, {{"name", "generate"}}});
  auto r = load_failure_results("fx", cases, Unsupported("model_type 'x' is not supported"));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(format_case_line(r[0]), "UNSUPPORTED fx forward max_abs_err=0 -- model_type 'x' is not supported");
  EXPECT_EQ(r[1].case_name, "generate");
  auto f = load_failure_results("fx", json::array(), Error("model.safetensors: truncated"));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(format_case_line(f[0]), "FAIL fx load max_abs_err=0 -- model.safetensors: truncated");
}

TEST(VerifyRunners, BrokenModelFixturesFailClearly) {
  const ScratchDir root("verify_models");
  const fs::path bert = kFixtures / "models" / "bert" / "BertModel";
  std::ofstream(copy_fixture(root, bert, "badjson") / "reference.json") << "{bad";
  const fs::path unsup = copy_fixture(root, bert, "unsup");
  json cfg = read_json(unsup / "config.json");
  cfg["model_type"] = "nosuchtype";
  write_json(unsup / "config.json", cfg);
  const fs::path outs = copy_fixture(root, bert, "outputs");
  json ref = read_json(outs / "reference.json");
  json kase = ref["cases"][0];
  const std::string out_name = kase["outputs"].begin().key();
  kase["outputs"]["not_an_output"] = kase["outputs"][out_name];
  ref["cases"].push_back(kase);  // forward: an output the engine does not produce
  json tight = ref["cases"][0];
  tight["outputs"] = {{out_name, ref["cases"][0]["outputs"][out_name]}};
  tight["outputs"][out_name]["atol"] = 0;
  tight["outputs"][out_name]["rtol"] = 0;
  ref["cases"].push_back(tight);  // forward again: exact comparison fails at the first element
  write_json(outs / "reference.json", ref);

  VerifySummary s;
  const auto lines = verify_lines(root, &s);
  const std::string text = all(lines);
  EXPECT_TRUE(has_line_starting(lines, "FAIL badjson load max_abs_err=0 -- ")) << text;
  EXPECT_NE(text.find("reference.json: [json.exception.parse_error"), std::string::npos) << text;
  EXPECT_TRUE(has_line_starting(lines, "UNSUPPORTED unsup forward max_abs_err=0 -- ")) << text;
  EXPECT_NE(text.find("model_type 'nosuchtype'"), std::string::npos) << text;
  EXPECT_TRUE(has_line_starting(lines, "PASS outputs forward")) << text;
  EXPECT_NE(text.find("-- not_an_output: not produced by the engine"), std::string::npos) << text;
  EXPECT_NE(text.find("(atol 0, rtol 0)"), std::string::npos) << text;
  EXPECT_EQ(s.fail, 3);
  EXPECT_EQ(s.unsupported, 1);
  EXPECT_FALSE(s.ok(false));
}

TEST(VerifyRunners, BrokenPreprocessAndDiffusersFixturesFailClearly) {
  const ScratchDir root("verify_other");
  const fs::path vit = kFixtures / "preprocess" / "vit" / "ViTImageProcessor";
  const fs::path kind = copy_fixture(root, vit, "p_kind");
  json ref = read_json(kind / "reference.json");
  const size_t n_cases = ref["cases"].size();
  ref["kind"] = "video";
  write_json(kind / "reference.json", ref);
  // No cases and a processor that cannot load: one "load" line, not silence.
  const fs::path empty = copy_fixture(root, vit, "p_nocases");
  ref["cases"] = json::array();
  write_json(empty / "reference.json", ref);

  const fs::path unet = kFixtures / "diffusion" / "unet_2d_condition" / "UNet2DConditionModel-sd1";
  const fs::path st = copy_fixture(root, unet, "u_badst");
  fs::resize_file(st / "reference.safetensors", 50);
  const fs::path noout = copy_fixture(root, unet, "u_noout");
  json uref = read_json(noout / "reference.json");
  uref["cases"][0]["outputs"] = json::object();
  write_json(noout / "reference.json", uref);

  const fs::path sched = copy_fixture(root, kFixtures / "diffusion" / "schedulers" / "DDIMScheduler", "s_badcfg");
  std::ofstream(sched / "scheduler_config.json") << R"({"_class_name": "NopeScheduler"})";

  VerifySummary s;
  const auto lines = verify_lines(root, &s);
  const std::string text = all(lines);
  size_t kind_lines = 0;
  for (const auto& l : lines)
    if (l.rfind("UNSUPPORTED p_kind ", 0) == 0) {
      ++kind_lines;
      EXPECT_NE(l.find("-- reference.json kind 'video' is not an image or audio fixture"), std::string::npos) << l;
    }
  EXPECT_EQ(kind_lines, n_cases) << text;
  EXPECT_TRUE(has_line_starting(lines, "UNSUPPORTED p_nocases load max_abs_err=0 -- ")) << text;
  EXPECT_TRUE(has_line_starting(lines, "FAIL u_badst forward max_abs_err=0 -- ")) << text;
  EXPECT_NE(text.find("reference.safetensors: header length"), std::string::npos) << text;
  EXPECT_NE(text.find("-- case has no outputs to compare"), std::string::npos) << text;
  EXPECT_TRUE(has_line_starting(lines, "FAIL s_badcfg ")) << text;
  EXPECT_NE(text.find("scheduler class 'NopeScheduler' is not supported"), std::string::npos) << text;
  EXPECT_GT(s.pass, 0);
  EXPECT_FALSE(s.ok(false));
}

TEST(VerifyRunners, TokenizerRecordsTheReferenceRejectedPassWhenTheEngineRejectsThemToo) {
  const ScratchDir root("verify_tok");
  const fs::path tok = root.path() / "tok";
  fs::create_directories(tok);
  const fs::path gpt2 = kFixtures / "tokenizers" / "gpt2";
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"}) fs::copy_file(gpt2 / f, tok / f);
  std::string first;
  std::getline(std::ifstream(gpt2 / "truncation_padding_rs.jsonl"), first);
  json rec = json::parse(first);
  json no_len = rec;
  no_len["truncation"].erase("maxLength");
  json raised = no_len;
  raised["errors"] = {"bad"};
  json unraised = rec;
  unraised["truncation"] = nullptr;
  unraised["errors"] = {"x"};
  std::ofstream(tok / "truncation_padding_rs.jsonl")
      << rec.dump() << "\n" << raised.dump() << "\n" << no_len.dump() << "\n" << unraised.dump() << "\n{not json\n";
  std::string enc;
  std::getline(std::ifstream(gpt2 / "reference_rs.jsonl"), enc);
  std::ofstream(tok / "reference_rs.jsonl") << enc << "\n";

  const auto lines = verify_lines(root);
  const std::string text = all(lines);
  ASSERT_EQ(lines.size(), 7u) << text;  // 1 encode + 5 truncation records + summary
  EXPECT_EQ(lines[0].rfind("PASS tok encode#0", 0), 0u) << text;
  EXPECT_EQ(lines[1].rfind("PASS tok trunc_pad#0", 0), 0u) << text;
  EXPECT_EQ(lines[2].rfind("PASS tok trunc_pad#1", 0), 0u) << text;  // both sides reject it
  EXPECT_EQ(lines[3].rfind("FAIL tok trunc_pad#2", 0), 0u) << text;
  EXPECT_NE(lines[3].find("truncation.maxLength: missing field"), std::string::npos) << text;
  EXPECT_EQ(lines[4].rfind("FAIL tok trunc_pad#3", 0), 0u) << text;
  EXPECT_NE(lines[4].find("errors: reference raised [\"x\"], engine did not"), std::string::npos) << text;
  EXPECT_EQ(lines[5].rfind("FAIL tok trunc_pad#4 max_abs_err=0 -- ", 0), 0u) << text;
  EXPECT_NE(lines[5].find("invalid JSON"), std::string::npos) << text;
  EXPECT_EQ(lines[6], "SUMMARY pass=3 fail=3 unsupported=0 total=6");
}
