// The library side of the programs `ipfs-accelerate generate` writes. A generated
// program fixes its composition (model type, family, architecture, pipeline and
// template parameters) as constants and calls these few entry points; this header
// includes no JSON library so a generated program compiles in about a second.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ia::generated {

// What the generator fixed. A Session checks the model directory against it.
struct Composition {
  const char* model_type;
  const char* family;                // family_name(), e.g. "decoder-only"
  const char* architecture;          // config.architectures[0]
  const char* pipeline;              // pipeline template name, e.g. "text"
  const char* template_params_json;  // Model::describe() when the code was generated
};

// init_<hardware>: the hardware template's honest report (present, implemented, why not).
struct HardwareInit {
  std::string name, description, detail;
  bool present = false, implemented = false;
  bool usable() const { return present && implemented; }
};
HardwareInit init_hardware(const std::string& name);

struct TaskResult {
  bool success = false;
  std::string json;   // the pipeline result, formatted exactly as `ipfs-accelerate run --json` prints it
  std::string error;  // when !success
  int64_t tokens = 0; // tokens processed: prompt + generated for generation, input tokens otherwise
  int64_t inputs = 0; // inputs of the request (texts, images or audio clips)
  double seconds = 0;
  std::vector<int64_t> generated_ids;  // text generation: the new token ids of the first input
};

// {"inputs": [input], "max_new_tokens": n} as JSON text (n < 0: left out).
std::string text_request(const std::string& input, int64_t max_new_tokens);

// One loaded model served through its pipeline template.
class Session {
 public:
  // Throws ia::Error when `model_dir` does not hold the composition (another model
  // type or architecture, or template parameters that differ from the constants).
  Session(const Composition& c, const std::string& model_dir);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  // Runs one task on a dispatcher request (JSON text, pipelines/task_dispatch.h keys;
  // its "task" is set to `task`) with the same defaults as `ipfs-accelerate run`.
  // Never throws: failures come back as success == false with the error JSON.
  TaskResult run(const std::string& task, const std::string& request_json);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ia::generated
