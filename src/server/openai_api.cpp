#include "server/openai_api.h"

#include <cmath>

#include "core/error.h"

namespace ia::server {

using json = nlohmann::json;

namespace {

[[noreturn]] void bad(const std::string& param, const std::string& message) {
  throw ApiError(400, "invalid_request_error", param, message);
}

const json& require_object(const json& body) {
  if (!body.is_object()) bad("", "the request body must be a JSON object");
  return body;
}

// A string or a non-empty list of strings.
std::vector<std::string> string_list(const json& v, const std::string& param, const ServerLimits& limits) {
  std::vector<std::string> out;
  if (v.is_string()) {
    out.push_back(v.get<std::string>());
  } else if (v.is_array()) {
    for (const auto& e : v) {
      if (!e.is_string()) bad(param, cat("'", param, "' must be a string or a list of strings (token-id inputs are not supported)"));
      out.push_back(e.get<std::string>());
    }
  } else {
    bad(param, cat("'", param, "' must be a string or a list of strings"));
  }
  if (out.empty()) bad(param, cat("'", param, "' is empty"));
  if (out.size() > limits.max_inputs) bad(param, cat("'", param, "' has ", out.size(), " entries; the limit is ", limits.max_inputs));
  return out;
}

double number(const json& body, const char* key, double lo, double hi) {
  const json& v = body.at(key);
  if (!v.is_number()) bad(key, cat("'", key, "' must be a number"));
  double d = v.get<double>();
  if (!std::isfinite(d) || d < lo || d > hi) bad(key, cat("'", key, "' must be in [", lo, ", ", hi, "], got ", d));
  return d;
}

int64_t integer(const json& body, const char* key, int64_t lo, int64_t hi) {
  const json& v = body.at(key);
  if (!v.is_number_integer()) bad(key, cat("'", key, "' must be an integer"));
  int64_t i = v.get<int64_t>();
  if (i < lo || i > hi) bad(key, cat("'", key, "' must be in [", lo, ", ", hi, "], got ", i));
  return i;
}

bool has(const json& body, const char* key) { return body.contains(key) && !body.at(key).is_null(); }

// Sampling and length options shared by /v1/completions and the task endpoint.
void apply_generation_options(const json& p, GenerationSettings& g, const ServerLimits& limits, const char* max_key) {
  if (has(p, max_key)) g.max_new_tokens = integer(p, max_key, 1, limits.max_new_tokens);
  g.max_new_tokens = std::min(g.max_new_tokens, limits.max_new_tokens);
  if (has(p, "temperature")) {
    double t = number(p, "temperature", 0, 100);
    // OpenAI semantics: temperature 0 is greedy decoding.
    if (t == 0) g.sampling.do_sample = false;
    else {
      g.sampling.do_sample = true;
      g.sampling.temperature = float(t);
    }
  }
  if (has(p, "do_sample")) {
    if (!p.at("do_sample").is_boolean()) bad("do_sample", "'do_sample' must be a boolean");
    g.sampling.do_sample = p.at("do_sample").get<bool>();
  }
  if (has(p, "top_p")) g.sampling.top_p = float(number(p, "top_p", 0, 1));
  if (has(p, "top_k")) g.sampling.top_k = integer(p, "top_k", 0, int64_t(1) << 31);
  if (has(p, "min_p")) g.sampling.min_p = float(number(p, "min_p", 0, 1));
  if (has(p, "repetition_penalty")) g.sampling.repetition_penalty = float(number(p, "repetition_penalty", 1e-3, 100));
  if (has(p, "seed")) g.sampling.seed = uint64_t(integer(p, "seed", 0, INT64_MAX));
  if (has(p, "stop")) {
    const json& s = p.at("stop");
    g.stop_strings = string_list(s, "stop", ServerLimits{limits.max_new_tokens, 4});
    for (const auto& x : g.stop_strings)
      if (x.empty()) bad("stop", "stop strings must not be empty");
  }
}

// Options neither endpoint can honour are rejected by name, never ignored.
void reject_unsupported(const json& body) {
  if (has(body, "n") && integer(body, "n", 1, 1) != 1) bad("n", "only n = 1 is supported");
  if (has(body, "best_of") && integer(body, "best_of", 1, 1) != 1) bad("best_of", "only best_of = 1 is supported");
  if (has(body, "logprobs") && body.at("logprobs") != false) bad("logprobs", "'logprobs' is not supported");
  if (has(body, "echo") && body.at("echo") != false) bad("echo", "'echo' is not supported");
  for (const char* k : {"frequency_penalty", "presence_penalty"})
    if (has(body, k) && number(body, k, -2, 2) != 0) bad(k, cat("'", k, "' is not supported (use repetition_penalty)"));
}

bool stream_flag(const json& body) {
  if (!has(body, "stream")) return false;
  if (!body.at("stream").is_boolean()) bad("stream", "'stream' must be a boolean");
  return body.at("stream").get<bool>();
}

json usage_of(const json& gen) {
  const int64_t p = gen.at("prompt_tokens").get<int64_t>(), c = gen.at("new_tokens").get<int64_t>();
  return {{"prompt_tokens", p}, {"completion_tokens", c}, {"total_tokens", p + c}};
}

std::string openai_reason(const json& gen) {
  return gen.at("finish_reason").get<std::string>() == "length" ? "length" : "stop";
}

}  // namespace

json error_body(const std::string& message, const std::string& type, const std::string& param) {
  return {{"error", {{"message", message}, {"type", type}, {"param", param.empty() ? json(nullptr) : json(param)}, {"code", nullptr}}}};
}

TextRequest completion_request(const json& body, const GenerationSettings& defaults, const ServerLimits& limits,
                               bool* stream) {
  require_object(body);
  if (!body.contains("prompt")) bad("prompt", "'prompt' is required");
  TextRequest req;
  req.task = "text-generation";
  req.inputs = string_list(body.at("prompt"), "prompt", limits);
  req.generation = defaults;
  if (!has(body, "max_tokens")) req.generation.max_new_tokens = std::min<int64_t>(16, limits.max_new_tokens);  // OpenAI's default
  apply_generation_options(body, req.generation, limits, "max_tokens");
  reject_unsupported(body);
  *stream = stream_flag(body);
  if (*stream && req.inputs.size() != 1) bad("prompt", "streaming takes a single prompt");
  return req;
}

json completion_response(const json& result, const std::string& model_id, const std::string& id, int64_t created) {
  json choices = json::array();
  int64_t prompt_tokens = 0, completion_tokens = 0;
  const json& texts = result.at("all_texts");
  const json& gens = result.at("generation");
  for (size_t i = 0; i < texts.size(); ++i) {
    const json& g = gens.at(i);
    std::string reason = g.at("finish_reason").get<std::string>();
    choices.push_back({{"text", texts.at(i)},
                       {"index", i},
                       {"logprobs", nullptr},
                       {"finish_reason", reason == "length" ? "length" : "stop"}});
    prompt_tokens += g.at("prompt_tokens").get<int64_t>();
    completion_tokens += g.at("new_tokens").get<int64_t>();
  }
  return {{"id", id},
          {"object", "text_completion"},
          {"created", created},
          {"model", model_id},
          {"choices", choices},
          {"usage",
           {{"prompt_tokens", prompt_tokens},
            {"completion_tokens", completion_tokens},
            {"total_tokens", prompt_tokens + completion_tokens}}}};
}

json completion_chunk(const std::string& text, const std::string& finish_reason, const std::string& model_id,
                      const std::string& id, int64_t created) {
  return {{"id", id},
          {"object", "text_completion"},
          {"created", created},
          {"model", model_id},
          {"choices",
           {{{"text", text},
             {"index", 0},
             {"logprobs", nullptr},
             {"finish_reason", finish_reason.empty() ? json(nullptr) : json(finish_reason)}}}}};
}

ChatRequest chat_request(const json& body, const GenerationSettings& defaults, const ServerLimits& limits,
                         bool* stream) {
  require_object(body);
  if (!body.contains("messages")) bad("messages", "'messages' is required");
  const json& msgs = body.at("messages");
  if (!msgs.is_array() || msgs.empty()) bad("messages", "'messages' must be a non-empty list");
  if (msgs.size() > limits.max_inputs * 16) bad("messages", cat("'messages' has ", msgs.size(), " entries; too many"));
  for (size_t i = 0; i < msgs.size(); ++i) {
    const json& m = msgs[i];
    const std::string at = cat("messages[", i, "]");
    if (!m.is_object()) bad(at, cat("'", at, "' must be an object"));
    if (!m.contains("role") || !m.at("role").is_string()) bad(at + ".role", cat("'", at, ".role' must be a string"));
    if (m.contains("content") && !(m.at("content").is_string() || m.at("content").is_array() || m.at("content").is_null()))
      bad(at + ".content", cat("'", at, ".content' must be a string, a list of parts or null"));
  }
  ChatRequest req;
  req.messages_json = msgs.dump();
  req.generation = defaults;
  const char* max_key = has(body, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
  apply_generation_options(body, req.generation, limits, max_key);
  reject_unsupported(body);
  *stream = stream_flag(body);
  return req;
}

json chat_response(const json& result, const std::string& model_id, const std::string& id, int64_t created) {
  const json& gen = result.at("generation").at(0);
  return {{"id", id},
          {"object", "chat.completion"},
          {"created", created},
          {"model", model_id},
          {"choices",
           {{{"index", 0},
             {"message", {{"role", "assistant"}, {"content", result.at("generated_text")}}},
             {"logprobs", nullptr},
             {"finish_reason", openai_reason(gen)}}}},
          {"usage", usage_of(gen)}};
}

json chat_chunk(const std::string& content, bool first, const std::string& finish_reason, const std::string& model_id,
                const std::string& id, int64_t created) {
  json delta = json::object();
  if (first) delta["role"] = "assistant";
  if (!content.empty()) delta["content"] = content;
  return {{"id", id},
          {"object", "chat.completion.chunk"},
          {"created", created},
          {"model", model_id},
          {"choices",
           {{{"index", 0},
             {"delta", delta},
             {"logprobs", nullptr},
             {"finish_reason", finish_reason.empty() ? json(nullptr) : json(finish_reason)}}}}};
}

TextRequest embeddings_request(const json& body, const ServerLimits& limits) {
  require_object(body);
  if (!body.contains("input")) bad("input", "'input' is required");
  if (has(body, "encoding_format") && body.at("encoding_format") != "float")
    bad("encoding_format", "only encoding_format \"float\" is supported");
  TextRequest req;
  req.task = "feature-extraction";
  req.inputs = string_list(body.at("input"), "input", limits);
  return req;
}

json embeddings_response(const json& result, const std::string& model_id, int64_t tokens) {
  json data = json::array();
  const json& embs = result.at("embeddings");
  for (size_t i = 0; i < embs.size(); ++i) data.push_back({{"object", "embedding"}, {"embedding", embs.at(i)}, {"index", i}});
  return {{"object", "list"}, {"data", data}, {"model", model_id}, {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
}

TextRequest task_request(const std::string& task, const json& body, const GenerationSettings& defaults,
                         const ServerLimits& limits) {
  require_object(body);
  if (!body.contains("inputs")) bad("inputs", "'inputs' is required");
  TextRequest req;
  req.task = task;
  req.inputs = string_list(body.at("inputs"), "inputs", limits);
  req.generation = defaults;
  if (has(body, "parameters")) {
    const json& p = body.at("parameters");
    if (!p.is_object()) bad("parameters", "'parameters' must be an object");
    apply_generation_options(p, req.generation, limits, "max_new_tokens");
    if (has(p, "top_k") && task != "text-generation") req.top_k = integer(p, "top_k", 1, 1000);
  }
  return req;
}

json task_dispatch_request(const std::string& task, const json& body, const GenerationSettings& defaults,
                           const ServerLimits& limits) {
  const TextRequest t = task_request(task, body, defaults, limits);
  const auto& g = t.generation;
  json q = {{"task", task},
            {"inputs", t.inputs},
            {"labels", t.top_k},
            {"max_new_tokens", g.max_new_tokens},
            {g.sampling.do_sample ? "do_sample" : "greedy", true},
            {"temperature", g.sampling.temperature},
            {"top_k", g.sampling.top_k},
            {"top_p", g.sampling.top_p},
            {"min_p", g.sampling.min_p},
            {"repetition_penalty", g.sampling.repetition_penalty},
            {"seed", int64_t(g.sampling.seed & uint64_t(INT64_MAX))},
            {"stop", g.stop_strings}};
  if (!has(body, "parameters")) return q;
  const json& p = body.at("parameters");
  for (const char* k : {"input_file", "out_dir", "save_state", "load_state"})
    if (has(p, k)) bad(k, cat("'", k, "' names a file on the server and is not accepted over HTTP"));
  // Pipeline options beyond text generation, passed through for the dispatcher to check.
  for (const char* k : {"candidate_labels", "hypothesis_template", "prompt", "image", "points", "box", "single_mask",
                        "no_rle", "language", "speech_task", "chunk_length_s", "stride_length_s", "return_timestamps",
                        "return_language", "num_beams", "length_penalty", "early_stopping", "num_return_sequences",
                        "experts_per_token", "chunk_size"})
    if (has(p, k)) q[k] = p.at(k);
  if (has(p, "point_labels")) q["labels"] = p.at("point_labels");  // SAM: "labels" is the result count elsewhere
  return q;
}

}  // namespace ia::server
