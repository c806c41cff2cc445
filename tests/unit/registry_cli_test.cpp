// The `models`, `detect` and `inspect` commands as a user runs them.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/wait.h>

#include "registry/model_types.h"

namespace {

struct CliRun {
  int code;
  std::string out;
};

CliRun run(const std::string& args) {
  std::string cmd = std::string(IA_CLI_PATH) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {-1, ""};
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string fixture(const std::string& rel) { return std::string(IA_FIXTURES_DIR) + "/models/" + rel; }

}  // namespace

TEST(RegistryCli, ModelsJsonListsEveryType) {
  CliRun r = run("models --json");
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["total"].get<size_t>(), ia::kTransformers4442ModelTypeCount);
  EXPECT_EQ(j["model_types"].size(), ia::kTransformers4442ModelTypeCount);
  EXPECT_EQ(j["families"].size(), 12u);
  size_t sum = 0;
  for (const auto& f : j["families"]) sum += f["total"].get<size_t>();
  EXPECT_EQ(sum, ia::kTransformers4442ModelTypeCount);
  bool saw_sam = false;
  for (const auto& e : j["model_types"])
    if (e["model_type"] == "sam") {
      saw_sam = true;
      EXPECT_EQ(e["family"], "diffusion");
    }
  EXPECT_TRUE(saw_sam);
}

TEST(RegistryCli, ModelsFamilyFilterAndMarkdown) {
  CliRun r = run("models --json --family state-space");
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["model_types"].size(), 5u);
  for (const auto& e : j["model_types"]) EXPECT_EQ(e["family"], "state-space");
  CliRun bad = run("models --family not-a-family");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.out.find("not-a-family"), std::string::npos);
  CliRun md = run("models --markdown");
  ASSERT_EQ(md.code, 0);
  EXPECT_NE(md.out.find("| **total** | **264** |"), std::string::npos);
  EXPECT_NE(md.out.find("| `mixtral` | Mixtral | mixture-of-experts |"), std::string::npos);
  CliRun text = run("models");
  ASSERT_EQ(text.code, 0);
  EXPECT_NE(text.out.find("transformers 4.44.2 model types: 264"), std::string::npos);
}

TEST(RegistryCli, DetectNameAndDirectory) {
  CliRun r = run("detect openai/clip-vit-base-patch32 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["family"], "vision-text");
  EXPECT_EQ(j["model_type"], "clip");
  EXPECT_EQ(j["source"], "name");
  CliRun d = run("detect " + fixture("mixtral/MixtralForCausalLM") + " --json");
  ASSERT_EQ(d.code, 0) << d.out;
  auto k = nlohmann::json::parse(d.out);
  EXPECT_EQ(k["family"], "mixture-of-experts");
  EXPECT_EQ(k["source"], "directory");
  EXPECT_EQ(k["confidence"].get<double>(), 1.0);
  CliRun t = run("detect facebook/sam-vit-base");
  EXPECT_EQ(t.code, 0);
  EXPECT_NE(t.out.find("family:       diffusion"), std::string::npos) << t.out;
}

TEST(RegistryCli, InspectDescribesUnsupportedTypes) {
  // SAM has no template in this build (yet): inspect still reports what is known.
  CliRun r = run("inspect " + fixture("sam/SamModel") + " --json");
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["model_type"], "sam");
  EXPECT_EQ(j["family"], "diffusion");
  bool sam_supported = j["status"] == "supported";
  if (!sam_supported) {
    EXPECT_TRUE(j["template"].is_null());
    EXPECT_EQ(j["tasks"][0], "mask-generation");
  }
  EXPECT_GT(j["parameters"].get<int64_t>(), 0);
  CliRun text = run("inspect " + fixture("sam/SamModel"));
  EXPECT_EQ(text.code, 0);
  if (!sam_supported) EXPECT_NE(text.out.find("UNSUPPORTED"), std::string::npos) << text.out;
  // An invalid directory is still an error.
  CliRun bad = run("inspect /nonexistent/ia/model");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.out.find("/nonexistent/ia/model"), std::string::npos);
}
