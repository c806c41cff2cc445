// OpenAI request/response mapping: every option either maps onto the pipeline
// request or is rejected with the field named; responses have the OpenAI shape.
#include <gtest/gtest.h>

#include "server/openai_api.h"

using namespace ia;
using namespace ia::server;
using json = nlohmann::json;

namespace {

GenerationSettings defaults() {
  GenerationSettings g;
  g.max_new_tokens = 100;
  g.sampling.do_sample = true;
  g.sampling.temperature = 0.7f;
  return g;
}

std::string rejected_param(const json& body) {
  bool stream = false;
  try {
    completion_request(body, defaults(), ServerLimits{}, &stream);
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status, 400);
    return e.param;
  }
  return "<accepted>";
}

}  // namespace

TEST(ServerApi, CompletionMapsOpenAIOptions) {
  bool stream = true;
  TextRequest r = completion_request(
      {{"prompt", "hi"}, {"max_tokens", 5}, {"temperature", 0}, {"stop", "\n"}, {"seed", 3}, {"top_p", 0.5}},
      defaults(), ServerLimits{}, &stream);
  EXPECT_FALSE(stream);
  EXPECT_EQ(r.task, "text-generation");
  EXPECT_EQ(r.inputs, std::vector<std::string>{"hi"});
  EXPECT_EQ(r.generation.max_new_tokens, 5);
  EXPECT_FALSE(r.generation.sampling.do_sample);  // temperature 0 = greedy
  EXPECT_EQ(r.generation.stop_strings, std::vector<std::string>{"\n"});
  EXPECT_EQ(r.generation.sampling.seed, 3u);
  EXPECT_FLOAT_EQ(r.generation.sampling.top_p, 0.5f);

  r = completion_request({{"prompt", {"a", "b"}}, {"temperature", 1.5}}, defaults(), ServerLimits{}, &stream);
  EXPECT_EQ(r.inputs.size(), 2u);
  EXPECT_TRUE(r.generation.sampling.do_sample);
  EXPECT_FLOAT_EQ(r.generation.sampling.temperature, 1.5f);
  EXPECT_EQ(r.generation.max_new_tokens, 16);  // OpenAI's default when max_tokens is absent

  completion_request({{"prompt", "x"}, {"stream", true}}, defaults(), ServerLimits{}, &stream);
  EXPECT_TRUE(stream);
}

TEST(ServerApi, CompletionRejectsWhatItCannotHonour) {
  EXPECT_EQ(rejected_param({{"max_tokens", 3}}), "prompt");
  EXPECT_EQ(rejected_param({{"prompt", {1, 2, 3}}}), "prompt");           // token ids
  EXPECT_EQ(rejected_param({{"prompt", json::array()}}), "prompt");
  EXPECT_EQ(rejected_param({{"prompt", "x"}, {"n", 2}}), "n");
  EXPECT_EQ(rejected_param({{"prompt", "x"}, {"logprobs", 2}}), "logprobs");
  EXPECT_EQ(rejected_param({{"prompt", "x"}, {"frequency_penalty", 0.5}}), "frequency_penalty");
  EXPECT_EQ(rejected_param({{"prompt", "x"}, {"max_tokens", 0}}), "max_tokens");
  EXPECT_EQ(rejected_param({{"prompt", "x"}, {"max_tokens", 100000}}), "max_tokens");  // over the server limit
  EXPECT_EQ(rejected_param({{"prompt", "x"}, {"temperature", "hot"}}), "temperature");
  EXPECT_EQ(rejected_param({{"prompt", "x"}, {"top_p", 2}}), "top_p");
  EXPECT_EQ(rejected_param({{"prompt", "x"}, {"stop", {"a", "b", "c", "d", "e"}}}), "stop");
  EXPECT_EQ(rejected_param({{"prompt", {"a", "b"}}, {"stream", true}}), "prompt");
  EXPECT_EQ(rejected_param(json::array()), "");
  EXPECT_EQ(rejected_param({{"prompt", "x"}, {"frequency_penalty", 0}}), "<accepted>");
}

TEST(ServerApi, CompletionResponseHasOpenAIShapeAndUsage) {
  json result = {{"success", true},
                 {"all_texts", {"abc", "d"}},
                 {"generation",
                  {{{"prompt_tokens", 3}, {"new_tokens", 4}, {"finish_reason", "length"}},
                   {{"prompt_tokens", 2}, {"new_tokens", 1}, {"finish_reason", "eos"}}}}};
  json r = completion_response(result, "m", "cmpl-1", 42);
  EXPECT_EQ(r["object"], "text_completion");
  EXPECT_EQ(r["model"], "m");
  EXPECT_EQ(r["created"], 42);
  ASSERT_EQ(r["choices"].size(), 2u);
  EXPECT_EQ(r["choices"][0]["text"], "abc");
  EXPECT_EQ(r["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(r["choices"][1]["finish_reason"], "stop");
  EXPECT_EQ(r["choices"][1]["index"], 1);
  EXPECT_EQ(r["usage"]["prompt_tokens"], 5);
  EXPECT_EQ(r["usage"]["completion_tokens"], 5);
  EXPECT_EQ(r["usage"]["total_tokens"], 10);
  json c = completion_chunk("x", "", "m", "cmpl-1", 42);
  EXPECT_TRUE(c["choices"][0]["finish_reason"].is_null());
}

TEST(ServerApi, EmbeddingsAndTaskRequests) {
  TextRequest e = embeddings_request({{"input", {"a", "b"}}}, ServerLimits{});
  EXPECT_EQ(e.task, "feature-extraction");
  EXPECT_EQ(e.inputs.size(), 2u);
  EXPECT_THROW(embeddings_request({{"input", "a"}, {"encoding_format", "base64"}}, ServerLimits{}), ApiError);
  ServerLimits small;
  small.max_inputs = 1;
  EXPECT_THROW(embeddings_request({{"input", {"a", "b"}}}, small), ApiError);
  json r = embeddings_response({{"embeddings", {{1.0, 2.0}, {3.0, 4.0}}}}, "m", 7);
  EXPECT_EQ(r["data"][1]["embedding"][0], 3.0);
  EXPECT_EQ(r["data"][1]["index"], 1);
  EXPECT_EQ(r["usage"]["prompt_tokens"], 7);

  TextRequest t = task_request("fill-mask", {{"inputs", "x"}, {"parameters", {{"top_k", 3}}}}, defaults(), ServerLimits{});
  EXPECT_EQ(t.task, "fill-mask");
  EXPECT_EQ(t.top_k, 3);
  t = task_request("text-generation", {{"inputs", "x"}, {"parameters", {{"max_new_tokens", 4}, {"do_sample", false}}}},
                   defaults(), ServerLimits{});
  EXPECT_EQ(t.generation.max_new_tokens, 4);
  EXPECT_FALSE(t.generation.sampling.do_sample);
  EXPECT_THROW(task_request("fill-mask", {{"parameters", json::object()}}, defaults(), ServerLimits{}), ApiError);
  EXPECT_THROW(task_request("fill-mask", {{"inputs", "x"}, {"parameters", 3}}, defaults(), ServerLimits{}), ApiError);
}
