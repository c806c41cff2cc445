#include "composer/codegen_templates.h"

namespace ia::codegen {

const char* const kProgramSource = R"__ia__(// @PROGRAM@: @MODEL_TYPE@ (@ARCHITECTURE@), composed by `ipfs-accelerate generate`.
// Architecture template: @FAMILY@. Pipeline template: @PIPELINE@. Hardware templates: @HARDWARE_LIST@.
// Bundled model: @FIXTURE@
// Generated code: edit the generator (src/composer/codegen_templates.cpp), not this file.
//
//   @PROGRAM@                      self-test: every handler on the bundled model, tokens/s; exit 1 on failure
//   @PROGRAM@ --task T --input X   one handler; prints the result JSON (as `ipfs-accelerate run --json`)
//     [--model DIR] [--hardware NAME] [--max-new-tokens N]
//   @PROGRAM@ --task T --request JSON   one handler on a full task request (pipelines/task_dispatch.h keys)
//   @PROGRAM@ --self-test-plan     the self-test's model directory, handler requests and the equivalent
//                                  `ipfs-accelerate run` arguments, tab-separated
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "composer/generated_runtime.h"

namespace {

namespace rt = ia::generated;

// The composition, fixed at generation time.
constexpr const char* kModelType = "@MODEL_TYPE@";
constexpr const char* kFamily = "@FAMILY@";
constexpr const char* kArchitecture = "@ARCHITECTURE@";
constexpr const char* kPipeline = "@PIPELINE@";
// Template parameters of the architecture template (Model::describe()); the
// library refuses a model directory whose parameters differ.
constexpr const char* kTemplateParams = R"ia_params(@TEMPLATE_PARAMS@)ia_params";
@SIZE_CONSTANTS@
const rt::Composition kComposition{kModelType, kFamily, kArchitecture, kPipeline, kTemplateParams};
constexpr const char* kBundledModel = IA_BUNDLED_MODEL_DIR;

// Hardware templates, in preference order; each reports honestly whether it can run here.
@HARDWARE_INITS@
struct HardwareEntry {
  const char* name;
  rt::HardwareInit (*init)();
};
const HardwareEntry kHardware[] = {
@HARDWARE_TABLE@};

// Task handlers: the pipeline's result for one task.
@HANDLERS@
struct Handler {
  const char* task;
  rt::TaskResult (*handle)(rt::Session&, const std::string& request_json);
  const char* self_test_request;     // built-in input: the bundled image / WAV / text and options
  const char* expected_token_ids;    // transformers' greedy continuation ("" = no reference)
  const char* run_arguments;         // the same request as `ipfs-accelerate run` flags (tab-separated)
};
const Handler kHandlers[] = {
@HANDLER_TABLE@};

std::string join_ids(const std::vector<int64_t>& ids) {
  std::string s;
  for (int64_t id : ids) {
    s += s.empty() ? "" : " ";
    s += std::to_string(id);
  }
  return s;
}

// The first hardware template that is present and implemented (none: nullptr, all reported).
const HardwareEntry* choose_hardware(const std::string& wanted) {
  for (const auto& h : kHardware) {
    if (!wanted.empty() && wanted != h.name) continue;
    rt::HardwareInit st = h.init();
    std::fprintf(stderr, "init_%s: %s%s\n", h.name, st.usable() ? "ready" : "unavailable - ",
                 st.usable() ? "" : st.detail.c_str());
    if (st.usable()) return &h;
  }
  return nullptr;
}

int self_test(rt::Session& session) {
  int failures = 0;
  for (const auto& h : kHandlers) {
    rt::TaskResult r = h.handle(session, h.self_test_request);
    std::string problem = r.success ? "" : r.error;
    if (r.success && h.expected_token_ids[0] != '\0' && join_ids(r.generated_ids) != h.expected_token_ids) {
      problem = "generated ids [";
      problem += join_ids(r.generated_ids);
      problem += "] differ from transformers' [";
      problem += h.expected_token_ids;
      problem += "]";
    }
    if (problem.empty() && r.tokens > 0) {
      std::printf("PASS %s %s tokens=%lld seconds=%.4f tokens_per_second=%.1f\n", kModelType, h.task,
                  static_cast<long long>(r.tokens), r.seconds, r.seconds > 0 ? double(r.tokens) / r.seconds : 0.0);
    } else if (problem.empty()) {  // images / audio clips: no tokens in
      std::printf("PASS %s %s inputs=%lld seconds=%.4f inputs_per_second=%.1f\n", kModelType, h.task,
                  static_cast<long long>(r.inputs), r.seconds, r.seconds > 0 ? double(r.inputs) / r.seconds : 0.0);
    } else {
      ++failures;
      std::printf("FAIL %s %s %s\n", kModelType, h.task, problem.c_str());
    }
  }
  std::printf("SELF-TEST %s: %d handler(s), %d failed\n", kModelType, int(sizeof(kHandlers) / sizeof(kHandlers[0])),
              failures);
  return failures == 0 ? 0 : 1;
}

const Handler* find_handler(const std::string& task) {
  for (const auto& h : kHandlers)
    if (task == h.task) return &h;
  return nullptr;
}

int usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--model DIR] [--hardware NAME] [--task TASK (--input TEXT [--max-new-tokens N] | --request JSON)]\n",
               argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_dir = kBundledModel, hardware, task, input, request;
  int64_t max_new_tokens = -1;
  if (argc == 2 && std::strcmp(argv[1], "--self-test-plan") == 0) {
    // Machine-readable: what the self-test runs, so tests can replay it through `ipfs-accelerate run`.
    std::printf("model\t%s\n", kBundledModel);
    for (const auto& h : kHandlers) std::printf("handler\t%s\t%s\t%s\n", h.task, h.self_test_request, h.run_arguments);
    return 0;
  }
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return usage(argv[0]);
    std::string v = argv[++i];
    if (a == "--model") model_dir = v;
    else if (a == "--hardware") hardware = v;
    else if (a == "--task") task = v;
    else if (a == "--input") input = v;
    else if (a == "--request") request = v;
    else if (a == "--max-new-tokens") max_new_tokens = std::strtoll(v.c_str(), nullptr, 10);
    else return usage(argv[0]);
  }
  if (!choose_hardware(hardware)) {
    std::fprintf(stderr, "%s: none of this program's hardware templates can run on this machine\n", kModelType);
    return 1;
  }
  try {
    rt::Session session(kComposition, model_dir);
    if (task.empty() && input.empty() && request.empty()) return self_test(session);
    const Handler* h = find_handler(task);
    if (!h) {
      std::fprintf(stderr, "%s: no handler for task '%s' (handlers:", kModelType, task.c_str());
      for (const auto& x : kHandlers) std::fprintf(stderr, " %s", x.task);
      std::fprintf(stderr, ")\n");
      return 2;
    }
    rt::TaskResult r = h->handle(session, request.empty() ? rt::text_request(input, max_new_tokens) : request);
    std::printf("%s\n", r.json.c_str());
    return r.success ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
)__ia__";

const char* const kProjectCMake = R"__ia__(# Generated by `ipfs-accelerate generate`: builds every generated program against
# the installed library.
#   cmake -S DIR -B DIR/build -DCMAKE_PREFIX_PATH=<install prefix> && cmake --build DIR/build -j2
cmake_minimum_required(VERSION 3.25)
project(ipfs_accelerate_generated LANGUAGES CXX)
set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE Release)
endif()
find_package(ipfs_accelerate CONFIG REQUIRED)
# Many programs link the same static library: lld (when installed) links them about twice as fast.
include(CheckLinkerFlag)
check_linker_flag(CXX "-fuse-ld=lld" IA_GENERATED_HAVE_LLD)
if(IA_GENERATED_HAVE_LLD)
  add_link_options(-fuse-ld=lld)
endif()
find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()

function(ia_generated_program name source model_dir)
  add_executable(${name} ${source})
  target_link_libraries(${name} PRIVATE ipfs_accelerate::ia)
  target_compile_options(${name} PRIVATE -Wall -Wextra -Wpedantic -Werror)
  target_compile_definitions(${name} PRIVATE IA_BUNDLED_MODEL_DIR="${model_dir}")
endfunction()

@PROGRAMS@)__ia__";

}  // namespace ia::codegen
