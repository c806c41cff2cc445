// `ipfs-accelerate run`: parses the flags into a dispatcher request
// (pipelines/task_dispatch.h) and prints the result; the dispatcher picks the pipeline.
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/run_chat.h"
#include "pipelines/task_dispatch.h"
#include "pipelines/task_request.h"

namespace ia::cli {

namespace {
struct RunArgs {
  std::string model_dir, task, input, input_file;
  bool json = false, no_stream = false;
  int64_t max_new_tokens = -1, top_k = -1;
  std::string image, prompt, points, box, out_dir;  // image tasks (SAM, BLIP, LLaVA)
  bool single_mask = false, no_rle = false;
  std::string labels;   // --labels: result count, or SAM point labels
  float temperature = -1, top_p = -1, min_p = -1, repetition_penalty = -1;
  int64_t seed = 0;
  bool do_sample = false, greedy = false;
  std::vector<std::string> stop;
  std::vector<std::string> language;  // Whisper
  std::string speech_task;            // Whisper: transcribe / translate
  double chunk_length_s = -1, stride_length_s = -1;  // Whisper long audio
  bool return_timestamps = false, return_language = false;
  int64_t chunk_size = 0, experts_per_token = 0;  // state-space / moe pipelines
  std::string save_state, load_state;
  int64_t num_beams = 0, num_return_sequences = 0;  // text2text (0: generation_config)
  double length_penalty = NAN;
  std::string early_stopping;
  std::string candidate_labels, hypothesis_template = "a photo of {}.";  // image tasks
  bool chat = false;
  std::string system;
  std::string docs, context_encoder;  // rag
  int64_t n_docs = 0;
  // Stable Diffusion pipeline directories
  std::string negative_prompt, mask, scheduler, out;
  int steps = -1;
  double guidance = NAN, strength = NAN;
  int64_t height = 0, width = 0;
  bool seed_given = false;
};

// The flags as a dispatcher request (pipelines/task_dispatch.h): only what was given.
nlohmann::json to_request(const RunArgs& a) {
  nlohmann::json r = nlohmann::json::object();
  auto text = [&r](const char* key, const std::string& v) {
    if (!v.empty()) r[key] = v;
  };
  text("task", a.task);
  if (!a.input.empty()) r["inputs"] = nlohmann::json::array({a.input});
  text("input_file", a.input_file);
  text("image", a.image);
  text("prompt", a.prompt);
  text("points", a.points);
  text("box", a.box);
  text("out_dir", a.out_dir);
  text("labels", a.labels);
  if (a.single_mask) r["single_mask"] = true;
  if (a.no_rle) r["no_rle"] = true;
  if (a.max_new_tokens >= 0) r["max_new_tokens"] = a.max_new_tokens;
  if (a.do_sample) r["do_sample"] = true;
  if (a.greedy) r["greedy"] = true;
  if (a.temperature >= 0) r["temperature"] = a.temperature;
  if (a.top_k >= 0) r["top_k"] = a.top_k;
  if (a.top_p >= 0) r["top_p"] = a.top_p;
  if (a.min_p >= 0) r["min_p"] = a.min_p;
  if (a.repetition_penalty >= 0) r["repetition_penalty"] = a.repetition_penalty;
  if (a.seed_given) r["seed"] = a.seed;
  if (!a.stop.empty()) r["stop"] = a.stop;
  if (!a.language.empty()) r["language"] = a.language;
  text("speech_task", a.speech_task);
  if (a.chunk_length_s >= 0) r["chunk_length_s"] = a.chunk_length_s;
  if (a.stride_length_s >= 0) r["stride_length_s"] = a.stride_length_s;
  if (a.return_timestamps) r["return_timestamps"] = true;
  if (a.return_language) r["return_language"] = true;
  if (a.chunk_size != 0) r["chunk_size"] = a.chunk_size;
  text("save_state", a.save_state);
  text("load_state", a.load_state);
  if (a.experts_per_token != 0) r["experts_per_token"] = a.experts_per_token;
  if (a.num_beams > 0) r["num_beams"] = a.num_beams;
  if (!std::isnan(a.length_penalty)) r["length_penalty"] = a.length_penalty;
  text("early_stopping", a.early_stopping);
  if (a.num_return_sequences > 0) r["num_return_sequences"] = a.num_return_sequences;
  text("candidate_labels", a.candidate_labels);
  text("docs", a.docs);
  text("context_encoder", a.context_encoder);
  if (a.n_docs > 0) r["n_docs"] = a.n_docs;
  text("negative_prompt", a.negative_prompt);
  text("mask", a.mask);
  text("scheduler", a.scheduler);
  text("out", a.out);
  if (a.steps >= 0) r["steps"] = a.steps;
  if (!std::isnan(a.guidance)) r["guidance"] = a.guidance;
  if (!std::isnan(a.strength)) r["strength"] = a.strength;
  if (a.height > 0) r["height"] = a.height;
  if (a.width > 0) r["width"] = a.width;
  if (a.hypothesis_template != "a photo of {}.") r["hypothesis_template"] = a.hypothesis_template;
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
  add_weights_option(cmd);
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
  cmd->add_option("--labels", a->labels, "fill-mask / classification: how many results; SAM: point labels 1,0,...");
  cmd->add_option("--image", a->image, "Image file (- for stdin): mask-generation, image-to-text");
  cmd->add_option("--prompt", a->prompt, "image-to-text: text the caption continues; image-text-to-text: the question");
  cmd->add_option("--points", a->points, "mask-generation: points x,y[;x,y] in image pixels");
  cmd->add_option("--box", a->box, "mask-generation: box x0,y0,x1,y1 in image pixels");
  cmd->add_option("--out-dir", a->out_dir, "mask-generation: write masks as PNG files here");
  cmd->add_flag("--single-mask", a->single_mask, "mask-generation: one mask instead of three");
  cmd->add_flag("--no-rle", a->no_rle, "mask-generation: leave RLE masks out of the JSON");
  cmd->add_option("--language", a->language, "Whisper: language (code, name or token; one, or one per input)");
  cmd->add_option("--speech-task", a->speech_task, "Whisper: transcribe or translate");
  cmd->add_option("--chunk-length", a->chunk_length_s,
                  "Whisper: seconds per window for long audio (default: the model's 30 s window; 0: no chunking)");
  cmd->add_option("--stride-length", a->stride_length_s, "Whisper: seconds of overlap on each side (default chunk/6)");
  cmd->add_flag("--return-timestamps", a->return_timestamps, "Whisper: segments with start/end times in \"chunks\"");
  cmd->add_flag("--return-language", a->return_language, "Whisper: each segment's language in \"chunks\"");
  cmd->add_option("--chunk-size", a->chunk_size, "state-space: prefill the prompt in chunks of N tokens");
  cmd->add_option("--save-state", a->save_state, "state-space: write the recurrent state after generation to FILE");
  cmd->add_option("--load-state", a->load_state, "state-space: continue from a state FILE (input = continuation)");
  cmd->add_option("--experts-per-token", a->experts_per_token, "moe: route each token to N experts (override)");
  cmd->add_option("--num-beams", a->num_beams, "text2text: beam search with N beams");
  cmd->add_option("--length-penalty", a->length_penalty, "text2text beam search: length penalty exponent");
  cmd->add_option("--early-stopping", a->early_stopping, "text2text beam search: true, false or never");
  cmd->add_option("--num-return-sequences", a->num_return_sequences, "text2text: sequences to return");
  cmd->add_option("--candidate-labels", a->candidate_labels, "zero-shot / similarity: comma-separated labels or texts");
  cmd->add_option("--hypothesis-template", a->hypothesis_template, "zero-shot: label template (default 'a photo of {}.')");
  cmd->add_flag("--chat", a->chat,
                "Chat through the tokenizer's chat template: interactive on stdin, or one reply to --input / "
                "--input-file messages.json");
  cmd->add_option("--system", a->system, "--chat: system message");
  cmd->add_option("--docs", a->docs, "rag: documents, JSONL/JSON objects with text, title (and optional embedding)");
  cmd->add_option("--context-encoder", a->context_encoder, "rag: DPR context encoder directory that embeds --docs");
  cmd->add_option("--n-docs", a->n_docs, "rag: documents to retrieve (default: config n_docs)");
  cmd->add_option("--negative-prompt", a->negative_prompt, "Stable Diffusion: negative prompt");
  cmd->add_option("--steps", a->steps, "Stable Diffusion: denoising steps (default 50)");
  cmd->add_option("--guidance", a->guidance, "Stable Diffusion: classifier-free guidance scale (default 7.5)");
  cmd->add_option("--strength", a->strength, "Stable Diffusion image-to-image / inpainting: strength");
  cmd->add_option("--scheduler", a->scheduler, "Stable Diffusion: scheduler class (e.g. EulerDiscreteScheduler)");
  cmd->add_option("--height", a->height, "Stable Diffusion: image height");
  cmd->add_option("--width", a->width, "Stable Diffusion: image width");
  cmd->add_option("--mask", a->mask, "Stable Diffusion inpainting: mask image (white = repaint)");
  cmd->add_option("--out", a->out, "Stable Diffusion: write the image as PNG here");
  auto* seed_opt = cmd->get_option("--seed");
  return [a, seed_opt]() {
    a->seed_given = seed_opt->count() > 0;
    if (a->chat) {
      ChatRunOptions c{a->model_dir, a->input, a->input_file, a->system, a->json, a->no_stream};
      const nlohmann::json flags = to_request(*a);
      return run_chat(c, [flags](GenerationSettings& g) { request::apply_generation(flags, g); });
    }
    bool streamed = false;
    TextStream on_text;
    if (!a->json && !a->no_stream) {
      on_text = [&streamed](const std::string& piece) {
        std::cout << piece << std::flush;
        streamed = true;
      };
    }
    const nlohmann::json result = dispatch_task(a->model_dir, to_request(*a), on_text);
    if (a->json) {
      std::cout << result.dump(2) << std::endl;
    } else if (!result.value("success", false)) {
      std::cerr << "error: " << result.value("error", std::string("unknown error")) << std::endl;
    } else if (streamed) {
      std::cout << std::endl;
    } else {
      nlohmann::json shown = result;
      shown.erase("hardware");
      // Without base64 images (use --json for them, --out for a file).
      if (shown.contains("diffusion_output") && shown["diffusion_output"].is_object()) shown["diffusion_output"].erase("images");
      std::cout << shown.dump(2) << std::endl;
    }
    return result.value("success", false) ? 0 : 1;
  };
}

}  // namespace ia::cli
