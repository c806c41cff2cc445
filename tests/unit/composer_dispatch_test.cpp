// The task dispatcher (pipelines/task_dispatch.h) that run, the server and the
// composer share: which pipeline serves which family and task, errors as
// results, and evidence earned by executing one bundled model of every family.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "composer/bundled_model.h"
#include "composer/evidence.h"
#include "composer/generate.h"
#include "composer/generated_runtime.h"
#include "composer/matrix.h"
#include "composer/task_runner.h"
#include "pipelines/task_dispatch.h"
#include "server/openai_api.h"
#include "scratch_dir.h"

using namespace ia;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using ia::test::ScratchDir;

std::string models_root() { return (fs::path(IA_FIXTURES_DIR) / "models").string(); }

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

// The result without its per-run timing figures (keys ending in _seconds / tokens_per_second).
json without_timing(const json& j) {
  if (j.is_array()) {
    json r = json::array();
    for (const auto& e : j) r.push_back(without_timing(e));
    return r;
  }
  if (!j.is_object()) return j;
  json r = json::object();
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    auto ends = [&k](const std::string& tail) { return k.size() >= tail.size() && k.compare(k.size() - tail.size(), tail.size(), tail) == 0; };
    if (!ends("_seconds") && !ends("tokens_per_second")) r[k] = without_timing(it.value());
  }
  return r;
}

std::string binding(const std::string& type, Family f, const std::string& task) {
  const PipelineBinding* b = binding_for({type, f, task});
  return b ? b->name : "";
}

std::string runnable_dir(const ScratchDir& scratch) { return (scratch.path() / "model").string(); }

// A runnable copy (tokenizer, preprocessor config, probe input) of a bundled fixture, in
// the "model" folder of the returned scratch directory.
ScratchDir runnable(const std::string& fixture, const std::string& name) {
  ScratchDir scratch("dispatch_" + name);
  write_runnable_copy(read_bundled_model((fs::path(models_root()) / fixture).string()), runnable_dir(scratch));
  return scratch;
}

}  // namespace

TEST(TaskDispatch, EachFamilyAndTaskHasItsPipeline) {
  EXPECT_EQ(binding("bert", Family::EncoderOnly, "fill-mask"), "text");
  EXPECT_EQ(binding("gpt2", Family::DecoderOnly, ""), "text");
  EXPECT_EQ(binding("t5", Family::EncoderDecoder, "summarization"), "text2text");
  EXPECT_EQ(binding("t5", Family::EncoderDecoder, "feature-extraction"), "text");
  EXPECT_EQ(binding("vit", Family::Vision, ""), "image");
  EXPECT_EQ(binding("clip", Family::VisionText, "zero-shot-image-classification"), "vision-text");
  EXPECT_EQ(binding("blip", Family::VisionText, "image-to-text"), "captioning");
  EXPECT_EQ(binding("blip", Family::VisionText, "zero-shot-image-classification"), "vision-text");
  EXPECT_EQ(binding("whisper", Family::Speech, ""), "audio");
  EXPECT_EQ(binding("llava", Family::Multimodal, "image-text-to-text"), "multimodal");
  EXPECT_EQ(binding("sam", Family::Diffusion, ""), "mask-generation");
  EXPECT_EQ(binding("mixtral", Family::MixtureOfExperts, ""), "moe");
  EXPECT_EQ(binding("mamba", Family::StateSpace, ""), "state-space");
  // Directories are resolved from their files: a diffusers Stable Diffusion layout, a SAM checkpoint.
  TaskDispatcher sd(std::string(IA_FIXTURES_DIR) + "/diffusion/stable_diffusion/StableDiffusionPipeline");
  EXPECT_EQ(sd.binding_name("text-to-image"), "stable-diffusion");
  TaskDispatcher sam(models_root() + "/sam/SamModel");
  EXPECT_EQ(sam.binding_name(""), "mask-generation");
  // Every binding implements a pipeline template that exists.
  for (const auto& b : pipeline_bindings()) EXPECT_TRUE(pipeline_implemented(b.pipeline)) << b.name;
}

TEST(TaskDispatch, ErrorsComeBackAsResults) {
  json r = dispatch_task("/no/such/model", {{"inputs", {"hi"}}});
  EXPECT_FALSE(r["success"].get<bool>());
  EXPECT_NE(r["error"].get<std::string>().find("config.json"), std::string::npos) << r.dump();
  // A count that is not a count is reported before the model is loaded.
  r = dispatch_task("/no/such/model", {{"inputs", {"hi"}}, {"labels", "1,0"}});
  EXPECT_NE(r["error"].get<std::string>().find("--labels: expected a count"), std::string::npos) << r.dump();
  r = dispatch_task(models_root(), json::array());
  EXPECT_FALSE(r["success"].get<bool>());
  const ScratchDir dir_scratch = runnable("gpt2/GPT2LMHeadModel", "gpt2");
  const std::string dir = runnable_dir(dir_scratch);
  r = dispatch_task(dir, {{"inputs", {"w1 w2"}}, {"chunk_size", 2}});
  EXPECT_NE(r["error"].get<std::string>().find("state-space"), std::string::npos) << r.dump();
  r = dispatch_task(dir, {{"inputs", {"w1 w2"}}, {"max_new_tokens", "many"}});
  EXPECT_NE(r["error"].get<std::string>().find("'max_new_tokens' must be an integer"), std::string::npos) << r.dump();
}

TEST(TaskDispatch, OneLoadedPipelineServesManyRequests) {
  const ScratchDir dir_scratch = runnable("vit/ViTForImageClassification", "vit");
  const std::string dir = runnable_dir(dir_scratch);
  TaskDispatcher d(dir);
  const std::string png = probe_input_file(dir);
  ASSERT_FALSE(png.empty());
  json a = d.run({{"task", "image-classification"}, {"inputs", {png}}, {"labels", 2}});
  ASSERT_TRUE(a["success"].get<bool>()) << a.dump();
  EXPECT_EQ(a["classifications"].size(), 2u);
  json b = d.run({{"task", "image-feature-extraction"}, {"image", png}});  // "image" serves when there are no inputs
  ASSERT_TRUE(b["success"].get<bool>()) << b.dump();
  EXPECT_EQ(b["embeddings"].size(), 1u);
}

// Evidence for one bundled model type of every family but rag: each earns a task.
TEST(Evidence, EveryFamilyEarnsATaskOnItsBundledModel) {
  for (const char* type : {"bert", "gpt2", "t5", "vit", "clip", "whisper", "llava", "sam", "mixtral", "mamba"}) {
    TypeEvidence e = gather_evidence(models_root(), type);
    EXPECT_TRUE(e.verified()) << type << ": " << e.first_failure;
    EXPECT_TRUE(e.pipeline_implemented) << type;
    EXPECT_TRUE(e.any_task_ok()) << type << ": " << e.pipeline_error;
    for (const auto& t : e.tasks) EXPECT_FALSE(t.detail.empty()) << type << " " << t.task;
  }
}

TEST(Evidence, MediaChecksFailOnWrongOutput) {
  const ScratchDir dir_scratch = runnable("clip/CLIPModel", "clip");
  const std::string dir = runnable_dir(dir_scratch);
  TaskRunner runner(dir);
  BundledModel m = read_bundled_model((fs::path(models_root()) / "clip/CLIPModel").string());
  EXPECT_TRUE(check_task(runner, m, "zero-shot-image-classification").ok);
  // The probe input is gone: the check reports the pipeline's error.
  fs::remove(probe_input_file(dir));
  TaskEvidence t = check_task(runner, m, "zero-shot-image-classification");
  EXPECT_FALSE(t.ok);
}

TEST(Matrix, NoFamilyWithABundledModelEndsInError) {
  json m = build_matrix(gather_all_evidence(models_root()));
  for (const auto& e : m["errors"]) ADD_FAILURE() << e.get<std::string>();
  // Derived from the family table: every family with an implemented type that has a
  // bundled model is working (rag and text-to-image diffusion join when their templates do).
  for (const auto& f : m["families"]) {
    bool bundled = false;
    for (const auto& r : m["rows"])
      bundled = bundled || (r["family"] == f["family"] && r["implemented"].get<bool>() &&
                            !bundled_fixture_dirs(models_root(), r["model_type"].get<std::string>()).empty());
    if (bundled) EXPECT_EQ(f["status"], "working") << f.dump();
  }
}

// The generated runtime answers as `ipfs-accelerate run` for non-text families too.
TEST(Generate, MediaSessionsAnswerAsRun) {
  struct Case {
    const char* type;
    const char* task;
    std::string extra_args;
  };
  for (const Case& c : {Case{"vit", "image-classification", ""}, Case{"sam", "mask-generation", " --points 20,15 --labels 1"},
                        Case{"whisper", "automatic-speech-recognition", " --max-new-tokens 4"},
                        Case{"t5", "summarization", ""}, Case{"mamba", "text-generation", ""}}) {
    const ScratchDir scratch(std::string("dispatch_gen_") + c.type);
    const fs::path out = scratch.path() / "out";
    GenerateRequest req;
    req.target = c.type;
    req.out_dir = out.string();
    req.models_root = models_root();
    GeneratedProgram p = generate_program(req);
    ASSERT_FALSE(p.handlers.empty()) << c.type;
    BundledModel m = read_bundled_model(p.fixture);
    json q = probe_request(m, p.model_dir, c.task);
    std::string input = q["inputs"][0].get<std::string>();
    std::string args = " --task " + std::string(c.task) + " --input '" + input + "'" + c.extra_args;
    if (q.contains("max_new_tokens") && c.extra_args.find("max-new") == std::string::npos)
      args += " --max-new-tokens " + q["max_new_tokens"].dump();
    // A Session built for exactly this composition.
    TaskRunner probe(p.model_dir);
    const std::string params = probe.model().describe().dump();
    generated::Composition comp{m.model_type.c_str(), family_name(probe.model().family()), m.architecture.c_str(),
                                probe.pipeline_name().c_str(), params.c_str()};
    generated::Session s(comp, p.model_dir);
    generated::TaskResult r = s.run(c.task, q.dump());
    ASSERT_TRUE(r.success) << c.type << ": " << r.error;
    json cli = json::parse(run_command(std::string(IA_CLI_PATH) + " run '" + p.model_dir + "'" + args + " --json"));
    json got = json::parse(r.json);
    EXPECT_EQ(without_timing(got), without_timing(cli)) << c.type;
  }
}

TEST(ServerTasks, BodyBecomesADispatcherRequest) {
  GenerationSettings defaults;
  defaults.max_new_tokens = 20;
  json q = server::task_dispatch_request(
      "zero-shot-image-classification",
      {{"inputs", "img.png"}, {"parameters", {{"candidate_labels", {"cat", "dog"}}, {"top_k", 2}}}}, defaults,
      server::ServerLimits{});
  EXPECT_EQ(q["task"], "zero-shot-image-classification");
  EXPECT_EQ(q["inputs"], json::array({"img.png"}));
  EXPECT_EQ(q["candidate_labels"], json::array({"cat", "dog"}));
  EXPECT_EQ(q["labels"], 2);
  EXPECT_THROW(server::task_dispatch_request("text-generation", {{"inputs", "x"}, {"parameters", {{"save_state", "/tmp/x"}}}},
                                             defaults, server::ServerLimits{}),
               server::ApiError);
}

// A user's image model directory (not a bundled fixture): handlers earned on the built-in image.
TEST(Generate, UserImageModelGetsHandlersOnTheBuiltInImage) {
  const ScratchDir dir_scratch = runnable("vit/ViTForImageClassification", "vit_user");
  const std::string dir = runnable_dir(dir_scratch);
  fs::remove(probe_input_file(dir));  // the program must bring its own input
  const ScratchDir out_scratch("dispatch_user");
  const fs::path out = out_scratch.path() / "out";
  GenerateRequest req;
  req.target = dir;
  req.out_dir = out.string();
  req.models_root = models_root();
  GeneratedProgram p = generate_program(req);
  EXPECT_EQ(p.handlers, (std::vector<std::string>{"image-classification", "image-feature-extraction"}));
  EXPECT_TRUE(fs::exists(out / p.program / "inputs" / "probe.png"));
}
