#include <cmath>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/run_image_tasks.h"
#include "cli/run_chat.h"
#include "core/error.h"
#include "pipelines/audio_pipeline.h"
#include "pipelines/pipeline_result.h"
#include "pipelines/moe_pipeline.h"
#include "pipelines/rag_pipeline.h"
#include "pipelines/stable_diffusion_task.h"
#include "pipelines/state_space_pipeline.h"
#include "pipelines/text2text_pipeline.h"
#include "pipelines/text_pipeline.h"
#include "templates/family.h"
#include "pipelines/vision_dispatch.h"

namespace ia::cli {

namespace {
struct RunArgs {
  std::string model_dir, task, input, input_file;
  bool json = false, no_stream = false;
  int64_t max_new_tokens = -1, top_k = -1, label_top_k = 5;
  ImageTaskArgs image;  // mask-generation / image-to-text (run_image_tasks.h)
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
  SdTaskArgs sd;  // Stable Diffusion pipeline directories (stable_diffusion_task.h)
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

// The family of the model in `dir` (decides the pipeline template), or Other.
Family family_of(const std::string& dir) {
  ModelContext ctx = ModelContext::open(dir);
  const FamilyTemplate* t = find_template(ctx.model_type);
  return t ? t->family : Family::Other;
}

// Vision, vision-text and multimodal models: --input / --input-file are images.
nlohmann::json run_vision_family(const RunArgs& a, bool& streamed) {
  VisionRequest req;
  req.task = a.task;
  if (!a.input.empty()) req.images.push_back(a.input);
  if (!a.input_file.empty()) req.images.push_back(a.input_file);
  for (size_t at = 0; !a.candidate_labels.empty() && at <= a.candidate_labels.size();) {
    size_t comma = a.candidate_labels.find(',', at);
    if (comma == std::string::npos) comma = a.candidate_labels.size();
    std::string label = a.candidate_labels.substr(at, comma - at);
    if (!label.empty()) req.candidate_labels.push_back(label);
    at = comma + 1;
  }
  req.hypothesis_template = a.hypothesis_template;
  req.prompt = a.image.prompt;
  req.top_k = a.label_top_k;
  req.max_new_tokens = a.max_new_tokens;
  // image-text-to-text: the generation config's settings with the command line's on top, streamed.
  ModelContext ctx = ModelContext::open(a.model_dir);
  const FamilyTemplate* t = find_template(ctx.model_type);
  if (t && t->family == Family::Multimodal) {
    GenerationSettings g = generation_defaults(ctx.generation_config, ctx.config);
    apply_generation_flags(a, g);
    req.generation = g;
    if (!a.json && !a.no_stream)
      req.on_text = [&streamed](const std::string& piece) {
        std::cout << piece << std::flush;
        streamed = true;
      };
  }
  return run_image_family_pipeline(a.model_dir, req);
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

// Speech models (whisper, wav2vec2): --input / --input-file name WAV files ("-" = stdin).
int run_audio(const RunArgs& a) {
  AudioRequest r;
  r.task = a.task;
  if (!a.input.empty()) r.inputs.push_back(a.input);
  if (!a.input_file.empty()) r.inputs.push_back(a.input_file);
  r.language = a.language;
  r.whisper_task = a.speech_task;
  r.max_new_tokens = a.max_new_tokens;
  r.top_k = a.label_top_k;
  r.chunk_length_s = a.chunk_length_s;
  r.stride_length_s = a.stride_length_s;
  r.return_timestamps = a.return_timestamps;
  r.return_language = a.return_language;
  nlohmann::json result;
  try {
    result = AudioPipeline(a.model_dir).run(r);
  } catch (const std::exception& e) {
    result = error_result(e.what());
  }
  if (!a.json && !result["success"].get<bool>()) {
    std::cerr << "error: " << result["error"].get<std::string>() << std::endl;
  } else {
    if (!a.json) result.erase("hardware");
    std::cout << result.dump(2) << std::endl;
  }
  return result["success"].get<bool>() ? 0 : 1;
}

int64_t parse_count(const std::string& s, const char* option) {
  size_t used = 0;
  int64_t v = -1;
  try {
    v = std::stoll(s, &used);
  } catch (const std::exception&) {
  }
  IA_CHECK(used == s.size() && v >= 0, option, ": expected a count, got '", s, "'");
  return v;
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
  cmd->add_option("--labels", a->labels, "fill-mask / classification: how many results; SAM: point labels 1,0,...");
  cmd->add_option("--image", a->image.image, "Image file (- for stdin): mask-generation, image-to-text");
  cmd->add_option("--prompt", a->image.prompt, "image-to-text: text the caption continues; image-text-to-text: the question");
  cmd->add_option("--points", a->image.points, "mask-generation: points x,y[;x,y] in image pixels");
  cmd->add_option("--box", a->image.box, "mask-generation: box x0,y0,x1,y1 in image pixels");
  cmd->add_option("--out-dir", a->image.out_dir, "mask-generation: write masks as PNG files here");
  cmd->add_flag("--single-mask", a->image.single_mask, "mask-generation: one mask instead of three");
  cmd->add_flag("--no-rle", a->image.no_rle, "mask-generation: leave RLE masks out of the JSON");
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
  cmd->add_option("--negative-prompt", a->sd.negative_prompt, "Stable Diffusion: negative prompt");
  cmd->add_option("--steps", a->sd.steps, "Stable Diffusion: denoising steps (default 50)");
  cmd->add_option("--guidance", a->sd.guidance, "Stable Diffusion: classifier-free guidance scale (default 7.5)");
  cmd->add_option("--strength", a->sd.strength, "Stable Diffusion image-to-image / inpainting: strength");
  cmd->add_option("--scheduler", a->sd.scheduler, "Stable Diffusion: scheduler class (e.g. EulerDiscreteScheduler)");
  cmd->add_option("--height", a->sd.height, "Stable Diffusion: image height");
  cmd->add_option("--width", a->sd.width, "Stable Diffusion: image width");
  cmd->add_option("--mask", a->sd.mask, "Stable Diffusion inpainting: mask image (white = repaint)");
  cmd->add_option("--out", a->sd.out, "Stable Diffusion: write the image as PNG here");
  auto* seed_opt = cmd->get_option("--seed");
  return [a, seed_opt]() {
    if (is_stable_diffusion_dir(a->model_dir)) {
      a->sd.model_dir = a->model_dir, a->sd.task = a->task, a->sd.image = a->image.image;
      a->sd.prompt = a->image.prompt.empty() ? a->input : a->image.prompt;
      a->sd.seed = a->seed, a->sd.seed_given = seed_opt->count() > 0;
      const nlohmann::json r = run_stable_diffusion_task(a->sd);
      if (a->json) {
        std::cout << r.dump(2) << std::endl;
      } else if (!r.value("success", false)) {
        std::cerr << "error: " << r.value("error", "") << std::endl;
      } else {  // without the base64 image (use --json for it, --out for a file)
        nlohmann::json shown = r;
        shown.erase("hardware");
        shown["diffusion_output"].erase("images");
        std::cout << shown.dump(2) << std::endl;
      }
      return r.value("success", false) ? 0 : 1;
    }
    if (a->chat) {
      ChatRunOptions c{a->model_dir, a->input, a->input_file, a->system, a->json, a->no_stream};
      return run_chat(c, [a](GenerationSettings& g) { apply_generation_flags(*a, g); });
    }
    if (AudioPipeline::handles(a->model_dir)) {
      if (!a->labels.empty()) a->label_top_k = parse_count(a->labels, "--labels");
      return run_audio(*a);
    }
    nlohmann::json result;
    bool streamed = false;
    a->image.model_dir = a->model_dir, a->image.task = a->task, a->image.labels = a->labels;
    a->image.max_new_tokens = a->max_new_tokens;
    if (a->image.image.empty()) a->image.image = a->input;
    if (auto r = run_image_task(a->image)) {
      result = *r;
    } else if (is_rag_model_dir(a->model_dir)) {
      RagRequest r{a->task, {}, a->n_docs, a->max_new_tokens, a->num_beams};
      try {
        r.questions = read_inputs(*a);
        result = run_rag_pipeline(a->model_dir, a->docs, a->context_encoder, r);
      } catch (const std::exception& e) {
        result = error_result(e.what());
      }
    } else if (is_image_family_dir(a->model_dir)) {
      try {
        if (!a->labels.empty()) a->label_top_k = parse_count(a->labels, "--labels");
        result = run_vision_family(*a, streamed);
      } catch (const std::exception& e) {
        result = error_result(e.what());
      }
    } else try {
      if (!a->labels.empty()) a->label_top_k = parse_count(a->labels, "--labels");
      const Family fam = family_of(a->model_dir);
      const bool ssm_flags = a->chunk_size != 0 || !a->save_state.empty() || !a->load_state.empty();
      IA_CHECK(!ssm_flags || fam == Family::StateSpace,
               "--chunk-size / --save-state / --load-state need a state-space model (mamba, mamba2, rwkv)");
      IA_CHECK(a->experts_per_token == 0 || fam == Family::MixtureOfExperts,
               "--experts-per-token needs a mixture-of-experts model");
      std::unique_ptr<MoePipeline> moe;
      std::unique_ptr<StateSpacePipeline> ssm;
      std::unique_ptr<TextPipeline> text;
      std::unique_ptr<Text2TextPipeline> t2t;
      if (fam == Family::MixtureOfExperts) moe = std::make_unique<MoePipeline>(a->model_dir);
      else if (fam == Family::StateSpace) ssm = std::make_unique<StateSpacePipeline>(a->model_dir);
      else if (fam == Family::EncoderDecoder && a->task != "feature-extraction") t2t = std::make_unique<Text2TextPipeline>(a->model_dir);
      else text = std::make_unique<TextPipeline>(a->model_dir);
      TextRequest req;
      req.task = a->task;
      req.inputs = read_inputs(*a);
      req.top_k = a->label_top_k;
      Text2TextSettings t2s;
      if (t2t) t2s = t2t->defaults();
      req.generation = moe ? moe->generation_defaults() : ssm ? ssm->generation_defaults()
                       : t2t ? t2s.generation : text->generation_defaults();
      apply_generation_flags(*a, req.generation);
      if (!a->json && !a->no_stream) {
        req.on_text = [&streamed](const std::string& piece) {
          std::cout << piece << std::flush;
          streamed = true;
        };
      }
      if (t2t) {
        t2s.generation = req.generation;
        if (a->num_beams > 0) t2s.num_beams = a->num_beams;
        if (!std::isnan(a->length_penalty)) t2s.length_penalty = a->length_penalty;
        IA_CHECK(a->early_stopping.empty() || a->early_stopping == "true" || a->early_stopping == "false" ||
                     a->early_stopping == "never",
                 "--early-stopping must be true, false or never");
        if (!a->early_stopping.empty())
          t2s.early_stopping = early_stopping_from(a->early_stopping == "never" ? nlohmann::json("never")
                                                                                : nlohmann::json(a->early_stopping == "true"));
        if (a->num_return_sequences > 0) t2s.num_return_sequences = a->num_return_sequences;
        result = t2t->run(req, t2s);
      } else if (moe) result = moe->run(req, MoeOptions{a->experts_per_token});
      else if (ssm) result = ssm->run(req, StateSpaceOptions{a->chunk_size, a->save_state, a->load_state});
      else result = text->run(req);
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
