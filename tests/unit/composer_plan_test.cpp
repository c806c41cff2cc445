#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "backends/hardware.h"
#include "composer/compose.h"
#include "pipelines/pipeline_templates.h"
#include "scratch_dir.h"

using namespace ia;
namespace fs = std::filesystem;

TEST(PipelineTemplates, EveryFamilyHasExactlyOnePipeline) {
  for (Family f : all_families()) {
    int n = 0;
    for (const auto& p : pipeline_templates())
      for (Family pf : p.families) n += pf == f;
    EXPECT_EQ(n, 1) << family_name(f);
    ASSERT_NE(pipeline_for_family(f), nullptr) << family_name(f);
    EXPECT_FALSE(pipeline_for_family(f)->tasks.empty());
  }
  EXPECT_EQ(pipeline_templates().size(), 9u);
}

TEST(Hardware, CpuIsFirstPresentAndImplemented) {
  ASSERT_FALSE(hardware_templates().empty());
  EXPECT_EQ(hardware_templates().front()->name(), "cpu");
  HardwareStatus s = find_hardware("cpu")->detect();
  EXPECT_TRUE(s.usable());
  EXPECT_GT(s.memory_total, 0);
  for (const auto& h : hardware_templates()) {
    HardwareStatus st = h->detect();
    EXPECT_FALSE(st.detail.empty()) << h->name();
    if (h->name() != "cpu") EXPECT_FALSE(st.implemented) << h->name() << " claims kernels this build lacks";
  }
  EXPECT_FALSE(shared_library_present("libdefinitely-not-a-real-library.so.9"));
}

namespace {
// A model directory holding only `config`, removed when the returned object goes.
ia::test::ScratchDir temp_model_dir(const std::string& config) {
  ia::test::ScratchDir d("compose");
  d.write("config.json", config);
  return d;
}
}  // namespace

TEST(Compose, UnsupportedModelTypeIsReportedNotThrown) {
  const ia::test::ScratchDir dir_scratch = temp_model_dir(R"({"model_type": "definitely_not_a_model", "architectures": ["X"]})");
  std::string dir = dir_scratch.str();
  auto plan = compose_plan({dir, {}, ""});
  EXPECT_FALSE(plan["runnable"].get<bool>());
  EXPECT_FALSE(plan["architecture_template"]["implemented"].get<bool>());
  EXPECT_NE(plan["problems"].dump().find("definitely_not_a_model"), std::string::npos);
}

TEST(Compose, AbsentHardwareIsNotChosenAndTheFallbackIsExplicit) {
  const ia::test::ScratchDir dir_scratch = temp_model_dir(R"({"model_type": "definitely_not_a_model"})");
  std::string dir = dir_scratch.str();
  auto plan = compose_plan({dir, {"webnn", "nonsense", "cpu"}, ""});
  const auto& hw = plan["hardware_template"];
  EXPECT_EQ(hw["selected"], "cpu");
  EXPECT_FALSE(hw["considered"][0]["chosen"].get<bool>());
  EXPECT_NE(hw["considered"][1]["reason"].get<std::string>().find("unknown hardware"), std::string::npos);
  EXPECT_NE(hw["note"].get<std::string>().find("cpu runs instead"), std::string::npos);
}

TEST(Compose, MissingDirectoryThrowsWithItsName) {
  try {
    compose_plan({"/nonexistent/model/dir", {}, ""});
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model/dir"), std::string::npos);
  }
}
