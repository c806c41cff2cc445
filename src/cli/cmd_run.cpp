#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/run_chat.h"
#include "core/error.h"
#include "pipelines/pipeline_result.h"
#include "pipelines/text_pipeline.h"

namespace ia::cli {

namespace {
struct RunArgs {
  std::string model_dir, task, input, input_file;
  bool json = false, no_stream = false;
  int64_t max_new_tokens = -1, top_k = -1, label_top_k = 5;
  float temperature = -1, top_p = -1, min_p = -1, repetition_penalty = -1;
  int64_t seed = 0;
  bool do_sample = false, greedy = false;
  std::vector<std::string> stop;
  bool chat = false;
  std::string system;
};

void apply_generation_flags(const RunArgs& a, GenerationSettings& g) {
  if (a.max_new_tokens >= 0) g.max_new_tokens = a.max_new_tokens;
  if (a.do_sample) g.sampling.do_sample = true;
  if (a.greedy) g.sampling.do_sample = false;
  if (a.temperature >= 0) g.sampling.temperature = a.temperature;
  if (a.top_k >= 0) g.sampling.top_k = a.top_k;
  if (a.top_p >= 0) g.sampling.top_p = a.top_p;
  if (a.min_p >= 0) g.sampling.min_p = a.min_p;
  if (a.repetition_penalty >= 0) g.sampling.repetition_penalty = a.repetition_penalty;
  g.sampling.seed = uint64_t(a.seed);
  g.stop_strings = a.stop;
}

// --input-file: plain text (one input), or JSON: a string, a list of strings, or {"inputs": ...}.
std::vector<std::string> read_inputs(const RunArgs& a) {
  std::vector<std::string> r;
  if (!a.input.empty()) r.push_back(a.input);
  if (!a.input_file.empty()) {
    std::ifstream in(a.input_file, std::ios::binary);
    IA_CHECK(in.good(), a.input_file, ": cannot open");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    bool is_json = a.input_file.size() > 5 && a.input_file.compare(a.input_file.size() - 5, 5, ".json") == 0;
    if (!is_json) {
      r.push_back(text);
    } else {
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(text);
      } catch (const std::exception& e) {
        fail(a.input_file, ": malformed JSON: ", e.what());
      }
      if (j.is_object() && j.contains("inputs")) j = j["inputs"];
      if (j.is_string()) r.push_back(j.get<std::string>());
      else if (j.is_array())
        for (const auto& e : j) {
          IA_CHECK(e.is_string(), a.input_file, ": every input must be a string");
          r.push_back(e.get<std::string>());
        }
      else fail(a.input_file, ": expected a string, a list of strings or {\"inputs\": ...}");
    }
  }
  IA_CHECK(!r.empty(), "no input: give --input TEXT or --input-file FILE");
  return r;
}
}  // namespace

Action add_run(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Run a task on a model directory and print the pipeline's result");
  auto a = std::make_shared<RunArgs>();
  cmd->add_option("model_dir", a->model_dir, "Hugging Face model directory")->required();
  cmd->add_option("--task", a->task, "Task (default: the model's first task)");
  cmd->add_option("--input", a->input, "Input text");
  cmd->add_option("--input-file", a->input_file, "Input file: text, or .json (string, list, {\"inputs\": ...})");
  cmd->add_flag("--json", a->json, "Print the full result JSON");
  cmd->add_flag("--no-stream", a->no_stream, "Do not stream generated text to the terminal");
  cmd->add_option("--max-new-tokens", a->max_new_tokens, "Tokens to generate (default: generation_config or 20)");
  cmd->add_flag("--sample", a->do_sample, "Sample instead of greedy decoding");
  cmd->add_flag("--greedy", a->greedy, "Greedy decoding even if generation_config samples");
  cmd->add_option("--temperature", a->temperature, "Sampling temperature");
  cmd->add_option("--top-k", a->top_k, "Top-k filtering (0 disables)");
  cmd->add_option("--top-p", a->top_p, "Nucleus filtering");
  cmd->add_option("--min-p", a->min_p, "Min-p filtering");
  cmd->add_option("--repetition-penalty", a->repetition_penalty, "Repetition penalty (1 = off)");
  cmd->add_option("--seed", a->seed, "Random seed for sampling");
  cmd->add_option("--stop", a->stop, "Stop string (repeatable)");
  cmd->add_option("--labels", a->label_top_k, "fill-mask / classification: how many results");
  cmd->add_flag("--chat", a->chat,
                "Chat through the tokenizer's chat template: interactive on stdin, or one reply to --input / "
                "--input-file messages.json");
  cmd->add_option("--system", a->system, "--chat: system message");
  return [a]() {
    if (a->chat) {
      ChatRunOptions c{a->model_dir, a->input, a->input_file, a->system, a->json, a->no_stream};
      return run_chat(c, [a](GenerationSettings& g) { apply_generation_flags(*a, g); });
    }
    nlohmann::json result;
    bool streamed = false;
    try {
      TextPipeline pipe(a->model_dir);
      TextRequest req;
      req.task = a->task;
      req.inputs = read_inputs(*a);
      req.top_k = a->label_top_k;
      req.generation = pipe.generation_defaults();
      apply_generation_flags(*a, req.generation);
      if (!a->json && !a->no_stream) {
        req.on_text = [&streamed](const std::string& piece) {
          std::cout << piece << std::flush;
          streamed = true;
        };
      }
      result = pipe.run(req);
    } catch (const std::exception& e) {
      result = error_result(e.what());
    }
    if (a->json) {
      std::cout << result.dump(2) << std::endl;
    } else if (!result["success"].get<bool>()) {
      std::cerr << "error: " << result["error"].get<std::string>() << std::endl;
    } else if (streamed) {
      std::cout << std::endl;
    } else {
      nlohmann::json shown = result;
      shown.erase("hardware");
      std::cout << shown.dump(2) << std::endl;
    }
    return result["success"].get<bool>() ? 0 : 1;
  };
}

}  // namespace ia::cli
