// The HTTP server end to end on a bundled tiny GPT-2 / BERT with a word-level
// tokenizer: generated tokens equal the transformers reference, streaming
// delivers the same text as server-sent events, and bad requests get OpenAI
// error bodies with the right status (400, 404, 413).
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

#include "composer/bundled_model.h"
#include "server/http_server.h"
#include "text_model_util.h"

using namespace ia;
using json = nlohmann::json;

namespace {

class RunningServer {
 public:
  explicit RunningServer(server::ServerOptions o) : srv_(std::move(o)) {
    port_ = srv_.bind();
    thread_ = std::thread([this] { srv_.listen(); });
  }
  ~RunningServer() {
    srv_.stop();
    thread_.join();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);
    return c;
  }

 private:
  server::Server srv_;
  int port_ = 0;
  std::thread thread_;
};

server::ServerOptions options(const std::string& dir) {
  server::ServerOptions o;
  o.model_dir = dir;
  o.model_id = "tiny";
  o.port = 0;
  o.max_body_bytes = 4096;
  return o;
}

const std::vector<int64_t> kPrompt = {28, 49, 59, 118, 69, 67, 60};          // reference.json generate prompt
const std::vector<int64_t> kExpected = {52, 52, 52, 67, 49, 49, 80, 80};     // its new_token_ids

}  // namespace

TEST(ServerHttp, CompletionsMatchReferenceTokensPlainAndStreamed) {
  const test::ScratchDir dir_scratch = test::model_with_tokenizer("gpt2/GPT2LMHeadModel", 128, {});
  std::string dir = dir_scratch.str();
  RunningServer s(options(dir));
  auto c = s.client();

  auto health = c.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(json::parse(health->body)["family"], "decoder-only");
  auto models = c.Get("/v1/models");
  ASSERT_TRUE(models);
  EXPECT_EQ(json::parse(models->body)["data"][0]["id"], "tiny");

  json body = {{"model", "tiny"}, {"prompt", test::words(kPrompt)}, {"max_tokens", 8}, {"temperature", 0}};
  auto r = c.Post("/v1/completions", body.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  EXPECT_EQ(j["choices"][0]["text"], test::words(kExpected));
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(j["usage"]["prompt_tokens"], 7);
  EXPECT_EQ(j["usage"]["completion_tokens"], 8);

  body["stream"] = true;
  auto sr = c.Post("/v1/completions", body.dump(), "application/json");
  ASSERT_TRUE(sr);
  ASSERT_EQ(sr->status, 200);
  EXPECT_NE(sr->get_header_value("Content-Type").find("text/event-stream"), std::string::npos);
  // Concatenate the "data:" events: the text pieces, then a finish chunk, then [DONE].
  std::string text, last_reason;
  size_t events = 0, pos = 0;
  bool done = false;
  while ((pos = sr->body.find("data: ", pos)) != std::string::npos) {
    size_t end = sr->body.find("\n\n", pos);
    ASSERT_NE(end, std::string::npos);
    std::string payload = sr->body.substr(pos + 6, end - pos - 6);
    pos = end + 2;
    if (payload == "[DONE]") {
      done = true;
      break;
    }
    json ev = json::parse(payload);
    text += ev["choices"][0]["text"].get<std::string>();
    if (!ev["choices"][0]["finish_reason"].is_null()) last_reason = ev["choices"][0]["finish_reason"];
    ++events;
  }
  EXPECT_TRUE(done);
  EXPECT_GT(events, 2u);  // streamed in pieces, not one block
  EXPECT_EQ(text, test::words(kExpected));
  EXPECT_EQ(last_reason, "length");
}

TEST(ServerHttp, BadRequestsGetOpenAIErrors) {
  const test::ScratchDir dir_scratch = test::model_with_tokenizer("gpt2/GPT2LMHeadModel", 128, {});
  std::string dir = dir_scratch.str();
  RunningServer s(options(dir));
  auto c = s.client();
  auto bad_json = c.Post("/v1/completions", "{not json", "application/json");
  ASSERT_TRUE(bad_json);
  EXPECT_EQ(bad_json->status, 400);
  EXPECT_NE(json::parse(bad_json->body)["error"]["message"].get<std::string>().find("malformed JSON"), std::string::npos);

  auto bad_field = c.Post("/v1/completions", json{{"prompt", "w1"}, {"n", 3}}.dump(), "application/json");
  ASSERT_TRUE(bad_field);
  EXPECT_EQ(bad_field->status, 400);
  EXPECT_EQ(json::parse(bad_field->body)["error"]["param"], "n");

  auto too_big = c.Post("/v1/completions", json{{"prompt", std::string(10000, 'w')}}.dump(), "application/json");
  ASSERT_TRUE(too_big);
  EXPECT_EQ(too_big->status, 413);
  EXPECT_EQ(json::parse(too_big->body)["error"]["type"], "invalid_request_error");

  auto missing = c.Get("/v1/nothing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(json::parse(missing->body)["error"]["type"], "not_found_error");

  // A task this model's heads do not serve: the pipeline's error, as a 400.
  auto wrong_task = c.Post("/v1/tasks/fill-mask", json{{"inputs", "w1 w2"}}.dump(), "application/json");
  ASSERT_TRUE(wrong_task);
  EXPECT_EQ(wrong_task->status, 400);
  EXPECT_FALSE(json::parse(wrong_task->body)["success"].get<bool>());
}

TEST(ServerHttp, TaskEndpointAndEmbeddings) {
  const test::ScratchDir dir_scratch = test::model_with_tokenizer("bert/BertForMaskedLM", 128, {{3, "[MASK]"}});
  std::string dir = dir_scratch.str();
  RunningServer s(options(dir));
  auto c = s.client();
  auto fm = c.Post("/v1/tasks/fill-mask", json{{"inputs", "w5 [MASK] w7"}, {"parameters", {{"top_k", 2}}}}.dump(),
                   "application/json");
  ASSERT_TRUE(fm);
  ASSERT_EQ(fm->status, 200) << fm->body;
  json j = json::parse(fm->body);
  EXPECT_TRUE(j["success"].get<bool>());
  EXPECT_EQ(j["device"], "cpu");
  EXPECT_EQ(j["predictions"][0].size(), 2u);

  const test::ScratchDir enc_scratch = test::model_with_tokenizer("bert/BertModel", 128, {});
  std::string enc = enc_scratch.str();
  RunningServer s2(options(enc));
  auto c2 = s2.client();
  auto e = c2.Post("/v1/embeddings", json{{"input", {"w5 w6", "w7"}}}.dump(), "application/json");
  ASSERT_TRUE(e);
  ASSERT_EQ(e->status, 200) << e->body;
  json ej = json::parse(e->body);
  ASSERT_EQ(ej["data"].size(), 2u);
  EXPECT_EQ(ej["data"][0]["embedding"].size(), ej["data"][1]["embedding"].size());
  EXPECT_GT(ej["data"][0]["embedding"].size(), 0u);
  EXPECT_EQ(ej["usage"]["prompt_tokens"], 3);
}

// A chat template that renders each message's content followed by a space: the
// prompt the completion test uses, so the reply must be the same reference tokens.
TEST(ServerHttp, ChatCompletionsUseTheChatTemplate) {
  const test::ScratchDir dir_scratch = test::model_with_tokenizer("gpt2/GPT2LMHeadModel", 128, {});
  std::string dir = dir_scratch.str();
  {
    RunningServer s(options(dir));
    auto c = s.client();
    json body = {{"messages", {{{"role", "user"}, {"content", "w1"}}}}};
    auto none = c.Post("/v1/chat/completions", body.dump(), "application/json");
    ASSERT_TRUE(none);
    EXPECT_EQ(none->status, 400);  // no chat template in this tokenizer
    EXPECT_NE(json::parse(none->body)["error"]["message"].get<std::string>().find("chat template"), std::string::npos)
        << none->body;
  }
  std::ofstream(std::filesystem::path(dir) / "tokenizer_config.json")
      << json{{"chat_template", "{% for m in messages %}{{ m['content'] }}{% if not loop.last %} {% endif %}{% endfor %}"}}
             .dump();
  RunningServer s(options(dir));
  auto c = s.client();
  json body = {{"messages", {{{"role", "system"}, {"content", test::words({28, 49, 59})}},
                             {{"role", "user"}, {"content", test::words({118, 69, 67, 60})}}}},
               {"max_tokens", 8},
               {"temperature", 0}};
  auto r = c.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["choices"][0]["message"]["content"], test::words(kExpected));
  EXPECT_EQ(j["usage"]["prompt_tokens"], 7);

  body["stream"] = true;
  auto sr = c.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(sr);
  ASSERT_EQ(sr->status, 200);
  std::string text;
  bool saw_role = false, done = false;
  size_t pos = 0;
  while ((pos = sr->body.find("data: ", pos)) != std::string::npos) {
    size_t end = sr->body.find("\n\n", pos);
    ASSERT_NE(end, std::string::npos);
    std::string payload = sr->body.substr(pos + 6, end - pos - 6);
    pos = end + 2;
    if (payload == "[DONE]") {
      done = true;
      break;
    }
    json ev = json::parse(payload);
    ASSERT_EQ(ev["object"], "chat.completion.chunk") << payload;
    const json& d = ev["choices"][0]["delta"];
    if (d.contains("role")) saw_role = true;
    if (d.contains("content")) text += d["content"].get<std::string>();
  }
  EXPECT_TRUE(done);
  EXPECT_TRUE(saw_role);
  EXPECT_EQ(text, test::words(kExpected));
}

// A model outside the text families (ViT) starts the server too: /health describes it,
// the OpenAI text endpoints answer with a client error naming /v1/tasks, and the task
// endpoint runs its pipeline.
TEST(ServerHttp, ImageModelsServeTheTaskEndpoint) {
  const BundledModel m = read_bundled_model(std::string(IA_FIXTURES_DIR) + "/models/vit/ViTForImageClassification");
  const test::ScratchDir scratch("server_vit");
  const std::string dir = scratch.str();
  write_runnable_copy(m, dir);
  RunningServer s(options(dir));
  auto c = s.client();
  auto h = c.Get("/health");
  ASSERT_TRUE(h);
  json hj = json::parse(h->body);
  EXPECT_EQ(hj["family"], "vision");
  EXPECT_EQ(hj["model_type"], "vit");
  auto comp = c.Post("/v1/completions", json{{"prompt", "w5"}}.dump(), "application/json");
  ASSERT_TRUE(comp);
  EXPECT_EQ(comp->status, 400);
  EXPECT_NE(comp->body.find("/v1/tasks"), std::string::npos) << comp->body;
  auto t = c.Post("/v1/tasks/image-classification",
                  json{{"inputs", probe_input_file(dir)}, {"parameters", {{"top_k", 2}}}}.dump(), "application/json");
  ASSERT_TRUE(t);
  ASSERT_EQ(t->status, 200) << t->body;
  json tj = json::parse(t->body);
  EXPECT_TRUE(tj["success"].get<bool>());
  EXPECT_TRUE(tj.contains("classifications")) << t->body;
}
