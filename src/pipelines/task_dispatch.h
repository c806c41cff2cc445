// The one task dispatcher every front end calls: `ipfs-accelerate run`, the
// server's /v1/tasks/<task>, the composer's task runner (matrix, generated
// programs). Given a model directory, a task and a structured request it picks
// the pipeline that serves the model's family and that task, and returns the
// pipeline's result JSON ({"success": true, <task key>: ..., "device", "hardware"}).
//
// Request keys (all optional; each pipeline reads the ones it understands):
//   task                      "" = the model's first task
//   inputs                    string or list: texts, or image / WAV paths ("-" = stdin)
//   input_file                text pipelines: a text file, or .json (string, list, {"inputs": ...});
//                             image / audio pipelines: one more image / WAV path
//   image, prompt             image tasks: the image (else inputs[0]); caption prefix / question
//   labels                    how many labels / candidates to return (count, default 5);
//                             mask-generation: point labels "1,0"
//   points, box, out_dir, single_mask, no_rle        mask-generation
//   candidate_labels (string "a,b" or list), hypothesis_template   zero-shot / similarity
//   max_new_tokens, do_sample, greedy, temperature, top_k, top_p, min_p,
//   repetition_penalty, seed, stop (list)            generation
//   num_beams, length_penalty, early_stopping (true/false/"never"), num_return_sequences   text2text
//   language (list), speech_task, chunk_length_s, stride_length_s,
//   return_timestamps, return_language               Whisper
//   chunk_size, save_state, load_state               state-space
//   experts_per_token                                mixture-of-experts
//
// Adding a pipeline: one PipelineBinding line in task_dispatch.cpp's table (and
// its adapter, a BoundPipeline subclass, in its own file).
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "templates/family.h"

namespace ia {

using TextStream = std::function<void(const std::string&)>;

// A pipeline loaded on one model directory, answering dispatcher requests.
class BoundPipeline {
 public:
  virtual ~BoundPipeline() = default;
  // May throw ia::Error: the dispatcher turns it into {"success": false, ...}.
  virtual nlohmann::json run(const nlohmann::json& request, const TextStream& on_text) = 0;
};

struct DispatchTarget {
  std::string model_type;
  Family family = Family::Other;
  std::string task;  // as requested ("" = the model's first task)
};

struct PipelineBinding {
  const char* name;      // "text", "text2text", "moe", "audio", "mask-generation", ...
  const char* pipeline;  // the pipeline template it implements (pipeline_templates.cpp)
  bool (*serves)(const DispatchTarget& t);
  std::unique_ptr<BoundPipeline> (*load)(const std::string& model_dir, const DispatchTarget& t);
  // Checks the request before the model is loaded, so cheap mistakes are reported
  // first (nullptr: nothing to check). Throws ia::Error.
  void (*validate)(const nlohmann::json& request, const DispatchTarget& t) = nullptr;
};

// In dispatch order: the first binding that serves a target runs it.
const std::vector<PipelineBinding>& pipeline_bindings();
const PipelineBinding* binding_for(const DispatchTarget& t);

class TaskDispatcher {
 public:
  // Nothing is read until the first request (so a bad directory is reported as a result).
  explicit TaskDispatcher(std::string model_dir);
  ~TaskDispatcher();
  TaskDispatcher(const TaskDispatcher&) = delete;
  TaskDispatcher& operator=(const TaskDispatcher&) = delete;
  // The pipeline's result; never throws. `on_text` streams generated text (first input).
  nlohmann::json run(const nlohmann::json& request, const TextStream& on_text = {});
  // Name of the binding that serves `task` on this model ("" when none).
  std::string binding_name(const std::string& task);
  // Serves binding `name` with an already loaded pipeline (the server shares its
  // text pipeline instead of loading the model twice).
  void adopt(const std::string& name, std::unique_ptr<BoundPipeline> p);

 private:
  const PipelineBinding& resolve(const std::string& task);
  std::string dir_;
  bool opened_ = false;
  DispatchTarget model_;  // model_type and family (task unset)
  std::map<std::string, std::unique_ptr<BoundPipeline>> loaded_;  // by binding name
};

class TextPipeline;
// A "text" binding on a pipeline the caller owns (must outlive the dispatcher).
std::unique_ptr<BoundPipeline> text_binding_on(TextPipeline& p, Family family);

// One-shot convenience: loads, runs, discards.
nlohmann::json dispatch_task(const std::string& model_dir, const nlohmann::json& request, const TextStream& on_text = {});

}  // namespace ia
