// matrix / coverage: cells earned by execution, reasons for every ❌, and the
// rule that an implemented family without a working pipeline is an error.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "composer/bundled_model.h"
#include "composer/coverage.h"
#include "composer/evidence.h"
#include "composer/matrix.h"
#include "composer/task_runner.h"
#include "registry/model_types.h"
#include "scratch_dir.h"

using namespace ia;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using ia::test::ScratchDir;

std::string models_root() { return (fs::path(IA_FIXTURES_DIR) / "models").string(); }

// A models root holding only the given bundled model types (symlinks), to keep runs short;
// removed when the returned object goes.
ScratchDir subset_root(const std::vector<std::string>& types) {
  ScratchDir root("matrix");
  for (const auto& t : types) fs::create_directory_symlink(fs::path(models_root()) / t, root.path() / t);
  return root;
}

const json& row_of(const json& m, const std::string& type) {
  for (const auto& r : m["rows"])
    if (r["model_type"] == type) return r;
  throw std::runtime_error("no row " + type);
}

}  // namespace

TEST(Evidence, Gpt2IsVerifiedAndGeneratesTransformersTokens) {
  TypeEvidence e = gather_evidence(models_root(), "gpt2");
  EXPECT_TRUE(e.verified());
  EXPECT_GT(e.cases_pass, 0);
  ASSERT_EQ(e.tasks.size(), 1u);
  EXPECT_EQ(e.tasks[0].task, "text-generation");
  EXPECT_TRUE(e.tasks[0].ok) << e.tasks[0].detail;
  EXPECT_EQ(e.tasks[0].checked_against, "transformers reference");
}

TEST(Evidence, CheckFailsWhenTheOutputIsWrong) {
  const ScratchDir scratch("evidence_wrong");
  const fs::path dir = scratch.path() / "model";
  BundledModel m = read_bundled_model((fs::path(models_root()) / "gpt2" / "GPT2LMHeadModel").string());
  write_runnable_copy(m, dir.string());
  TaskRunner runner(dir.string());
  m.expected_new_ids[3] += 1;  // pretend transformers said otherwise
  TaskEvidence t = check_task(runner, m, "text-generation");
  EXPECT_FALSE(t.ok);
  EXPECT_NE(t.detail.find("differ"), std::string::npos) << t.detail;
  EXPECT_FALSE(check_task(runner, m, "fill-mask").ok);  // gpt2 has no masked-LM head
}

TEST(Evidence, EncoderTasksAreChecked) {
  TypeEvidence e = gather_evidence(models_root(), "bert");
  EXPECT_TRUE(e.verified());
  std::vector<std::string> ok;
  for (const auto& t : e.tasks)
    if (t.ok) ok.push_back(t.task);
  EXPECT_EQ(ok, (std::vector<std::string>{"fill-mask", "feature-extraction"}));
}

TEST(Matrix, CellsAreEarnedAndExplained) {
  const ScratchDir root_scratch = subset_root({"gpt2"});
  std::string root = root_scratch.str();
  json m = build_matrix(gather_all_evidence(root));
  const json& gpt2 = row_of(m, "gpt2");
  EXPECT_TRUE(gpt2["by_pipeline"]["text"]["ok"].get<bool>());
  EXPECT_EQ(gpt2["by_pipeline"]["text"]["tasks"][0]["task"], "text-generation");
  EXPECT_FALSE(gpt2["by_pipeline"]["image"]["ok"].get<bool>());
  EXPECT_EQ(gpt2["by_pipeline"]["image"]["reason"].get<std::string>().rfind("incompatible", 0), 0u);
  EXPECT_TRUE(gpt2["by_hardware"]["cpu"]["ok"].get<bool>());
  for (const auto& h : m["hardware"])
    if (!h["present"].get<bool>()) {
      const json& c = gpt2["by_hardware"][h["name"].get<std::string>()];
      EXPECT_FALSE(c["ok"].get<bool>());
      EXPECT_EQ(c["reason"].get<std::string>().rfind("hardware absent", 0), 0u);
    }
  // Other decoder types have no bundled model in this root: not executed, so ❌ with the reason.
  const json& llama = row_of(m, "llama");
  EXPECT_FALSE(llama["by_pipeline"]["text"]["ok"].get<bool>());
  EXPECT_NE(llama["by_pipeline"]["text"]["reason"].get<std::string>().find("no bundled model"), std::string::npos);
  // decoder-only works through gpt2; families whose every type lacks a bundled model are errors.
  bool decoder_ok = false, encoder_error = false;
  for (const auto& f : m["families"])
    if (f["family"] == "decoder-only") decoder_ok = f["status"] == "working";
  for (const auto& e : m["errors"]) encoder_error |= e.get<std::string>().find("family encoder-only") != std::string::npos;
  EXPECT_TRUE(decoder_ok);
  EXPECT_TRUE(encoder_error);
  EXPECT_NE(matrix_markdown(m).find("| `gpt2` | decoder-only | ✅ text-generation |"), std::string::npos);
}

TEST(Matrix, UnimplementedFamiliesAreReportedNotErrors) {
  TypeEvidence e;
  e.model_type = "gpt2";
  e.family = Family::DecoderOnly;
  e.implemented = true;
  e.pipeline = "text";
  e.pipeline_implemented = true;
  e.fixtures = {"x"};
  e.cases_pass = 2;
  e.tasks = {{"text-generation", true, "ok", "transformers reference"}};
  json m = build_matrix({e});
  EXPECT_TRUE(m["errors"].empty()) << m["errors"].dump();
  for (const auto& f : m["families"])
    if (f["family"] != "decoder-only") EXPECT_EQ(f["status"], "not implemented") << f.dump();
  // The same type failing its only task: the family has no working pipeline -> error.
  e.tasks[0].ok = false;
  e.tasks[0].detail = "broken";
  json bad = build_matrix({e});
  ASSERT_EQ(bad["errors"].size(), 1u);
  EXPECT_NE(bad["errors"][0].get<std::string>().find("broken"), std::string::npos);
  // A failing reference case also takes the ✅ away.
  e.tasks[0].ok = true;
  e.cases_fail = 1;
  EXPECT_FALSE(build_matrix({e})["rows"][0]["by_pipeline"]["text"]["ok"].get<bool>());
}

TEST(Coverage, EveryTransformersModelTypeWithEarnedStatus) {
  const ScratchDir root_scratch = subset_root({"gpt2", "bert"});
  std::string root = root_scratch.str();
  json c = build_coverage(root);
  ASSERT_EQ(c["model_types"].size(), kTransformers4442ModelTypeCount);
  EXPECT_EQ(c["totals"]["total"].get<size_t>(), kTransformers4442ModelTypeCount);
  size_t sum = 0;
  for (const char* s : {"verified", "unverified", "failing", "unsupported"}) sum += c["totals"][s].get<size_t>();
  EXPECT_EQ(sum, kTransformers4442ModelTypeCount);
  EXPECT_EQ(c["totals"]["verified"].get<size_t>(), 2u);  // only what this root proves
  for (const auto& r : c["model_types"]) {
    if (r["model_type"] == "gpt2") {
      EXPECT_EQ(r["status"], "verified");
      EXPECT_EQ(r["tasks"], json::array({"text-generation"}));
    }
    if (r["model_type"] == "llama") EXPECT_EQ(r["status"], "unverified");
    if (r["model_type"] == "time_series_transformer") EXPECT_EQ(r["status"], "unsupported");
  }
  std::string md = coverage_markdown(c);
  EXPECT_NE(md.find("| `gpt2` | "), std::string::npos);
  EXPECT_NE(md.find("✅ verified"), std::string::npos);
}

TEST(Matrix, BundledFixturesEarnEveryCellTheyClaim) {
  json m = build_matrix(gather_all_evidence(models_root()));
  ASSERT_FALSE(m["rows"].empty());
  for (const auto& r : m["rows"]) {
    const std::string own = r["pipeline"].get<std::string>();
    for (auto it = r["by_pipeline"].begin(); it != r["by_pipeline"].end(); ++it) {
      const json& c = it.value();
      EXPECT_FALSE(c["reason"].get<std::string>().empty()) << r["model_type"] << " " << it.key();
      if (it.key() != own) {
        EXPECT_FALSE(c["ok"].get<bool>());
        continue;
      }
      if (!c["ok"].get<bool>()) continue;
      // A ✅ lists the tasks that ran and what their output was checked against.
      ASSERT_FALSE(c["tasks"].empty()) << r["model_type"];
      for (const auto& t : c["tasks"]) EXPECT_FALSE(t["checked_against"].get<std::string>().empty());
      EXPECT_EQ(r["verify"]["fail"], 0) << r["model_type"];
      EXPECT_GT(r["verify"]["pass"].get<int>(), 0) << r["model_type"];
      EXPECT_TRUE(r["by_hardware"]["cpu"]["ok"].get<bool>()) << r["model_type"];
    }
  }
  // Every error is a family without a working pipeline, and vice versa.
  size_t broken = 0;
  for (const auto& f : m["families"]) {
    broken += f["status"] == "no working pipeline";
    if (f["family"] == "decoder-only" || f["family"] == "encoder-only")
      EXPECT_EQ(f["status"], "working") << f.dump();
  }
  EXPECT_EQ(m["errors"].size(), broken);
}
