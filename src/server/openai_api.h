// The OpenAI-compatible request/response mapping, kept apart from the socket
// code so that every translation rule is unit-tested without a server:
// /v1/completions, /v1/embeddings, and the HF-style task endpoint
// (/v1/tasks/<task>: {"inputs": ..., "parameters": {...}} -> pipeline result).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "pipelines/text_pipeline.h"

namespace ia::server {

// A request the client got wrong (HTTP 400 unless `status` says otherwise).
struct ApiError : std::runtime_error {
  ApiError(int status, std::string type, std::string param, const std::string& message)
      : std::runtime_error(message), status(status), type(std::move(type)), param(std::move(param)) {}
  int status;
  std::string type;   // "invalid_request_error", "not_found_error", ...
  std::string param;  // the offending field, or empty
};

struct ServerLimits {
  int64_t max_new_tokens = 4096;  // largest max_tokens a request may ask for
  size_t max_inputs = 64;         // prompts / inputs per request
};

// {"error": {"message", "type", "param", "code"}} as the OpenAI API returns it.
nlohmann::json error_body(const std::string& message, const std::string& type, const std::string& param = "");

// /v1/completions body -> text-generation request on top of the model's defaults.
// `stream` receives the body's "stream" flag. Unsupported options (n > 1, logprobs,
// non-zero frequency/presence penalties, token-id prompts) are rejected, never ignored.
TextRequest completion_request(const nlohmann::json& body, const GenerationSettings& defaults,
                               const ServerLimits& limits, bool* stream);
// Pipeline result of a completion -> OpenAI text_completion object.
nlohmann::json completion_response(const nlohmann::json& result, const std::string& model_id, const std::string& id,
                                   int64_t created);
// One streamed piece (`finish_reason` empty until the last chunk).
nlohmann::json completion_chunk(const std::string& text, const std::string& finish_reason, const std::string& model_id,
                                const std::string& id, int64_t created);

// /v1/chat/completions body: the messages (validated, as JSON for the chat
// template) and the generation settings. Same option rules as completions.
struct ChatRequest {
  std::string messages_json;
  GenerationSettings generation;
};
ChatRequest chat_request(const nlohmann::json& body, const GenerationSettings& defaults, const ServerLimits& limits,
                         bool* stream);
// ChatSession::reply result -> OpenAI chat.completion object.
nlohmann::json chat_response(const nlohmann::json& result, const std::string& model_id, const std::string& id,
                             int64_t created);
// One streamed chat.completion.chunk: the first carries the role, the last the finish reason.
nlohmann::json chat_chunk(const std::string& content, bool first, const std::string& finish_reason,
                          const std::string& model_id, const std::string& id, int64_t created);

// /v1/embeddings body -> feature-extraction request.
TextRequest embeddings_request(const nlohmann::json& body, const ServerLimits& limits);
nlohmann::json embeddings_response(const nlohmann::json& result, const std::string& model_id, int64_t prompt_tokens);

// /v1/tasks/<task> body ({"inputs": str | [str], "parameters": {...}}) -> request.
TextRequest task_request(const std::string& task, const nlohmann::json& body, const GenerationSettings& defaults,
                         const ServerLimits& limits);

// /v1/tasks/<task> body -> the task dispatcher's request (pipelines/task_dispatch.h):
// task_request's validated text and generation options, plus the pipeline options
// other families take from "parameters" (candidate_labels, prompt, points, language,
// num_beams, ...). Options that name server files to write or read state are refused.
nlohmann::json task_dispatch_request(const std::string& task, const nlohmann::json& body, const GenerationSettings& defaults,
                                     const ServerLimits& limits);

}  // namespace ia::server
