// `ipfs-accelerate run MODEL_DIR --chat` end to end on the bundled tiny GPT-2
// checkpoint with a word-level tokenizer (token i = "w<i>") and a chat
// template that joins the system and user turns, so the rendered prompt is the
// transformers reference's generate prompt and the greedy reply is known.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "scratch_dir.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string words(const std::vector<int64_t>& ids) {
  std::string s;
  for (auto id : ids) s += (s.empty() ? "" : " ") + ("w" + std::to_string(id));
  return s;
}

using ia::test::ScratchDir;

// The GPT-2 fixture with a word-level tokenizer and a chat template, in a scratch
// directory removed when the returned object goes.
ScratchDir chat_model_dir() {
  fs::path src = fs::path(IA_FIXTURES_DIR) / "models" / "gpt2" / "GPT2LMHeadModel";
  ScratchDir scratch("chat_cli");
  const fs::path& dst = scratch.path();
  for (const char* f : {"config.json", "model.safetensors", "generation_config.json"})
    if (fs::exists(src / f)) fs::copy_file(src / f, dst / f);
  json vocab = json::object();
  for (int64_t i = 0; i < 128; ++i) vocab["w" + std::to_string(i)] = i;
  json tok = {{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr}, {"added_tokens", json::array()},
              {"normalizer", nullptr}, {"pre_tokenizer", {{"type", "WhitespaceSplit"}}}, {"post_processor", nullptr},
              {"decoder", nullptr}, {"model", {{"type", "WordLevel"}, {"vocab", vocab}, {"unk_token", "w1"}}}};
  std::ofstream(dst / "tokenizer.json") << tok.dump();
  json cfg = {{"eos_token", "w0"},
              {"chat_template",
               "{% for m in messages %}{% if m.role != 'assistant' %}{{ m.content | trim }} {% endif %}{% endfor %}"}};
  std::ofstream(dst / "tokenizer_config.json") << cfg.dump();
  return scratch;
}

std::string run(const std::string& args, int* code = nullptr) {
  const ScratchDir scratch("chat_cli_out");
  const std::string out = scratch.file("stdout.txt");
  int rc = std::system((std::string(IA_CLI_PATH) + " " + args + " > " + out + " 2>/dev/null").c_str());
  if (code) *code = rc;
  std::ifstream in(out);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::vector<int64_t> kPrompt = {28, 49, 59, 118, 69, 67, 60};
const std::vector<int64_t> kReply = {52, 52, 52, 67, 49, 49, 80, 80};  // reference.json new_token_ids (greedy)

}  // namespace

TEST(ChatCli, OneReplyFromSystemAndInput) {
  const ScratchDir dir_scratch = chat_model_dir();
  std::string dir = dir_scratch.str();
  std::string out = run("run " + dir + " --chat --system '" + words({28, 49, 59}) + "' --input '" +
                        words({118, 69, 67, 60}) + "' --max-new-tokens 8 --json");
  json r = json::parse(out);
  ASSERT_TRUE(r["success"].get<bool>()) << out;
  EXPECT_EQ(r["prompt"], words(kPrompt) + " ");
  EXPECT_EQ(r["generated_text"], words(kReply));
  ASSERT_EQ(r["messages"].size(), 3u);
  EXPECT_EQ(r["messages"][2]["role"], "assistant");
  EXPECT_EQ(r["messages"][2]["content"], words(kReply));
}

TEST(ChatCli, MessagesFileAndInteractiveTurns) {
  const ScratchDir dir_scratch = chat_model_dir();
  std::string dir = dir_scratch.str();
  fs::path msgs = fs::path(dir) / "messages.json";
  std::ofstream(msgs) << json{{"messages", {{{"role", "user"}, {"content", words(kPrompt)}}}}}.dump();
  json r = json::parse(run("run " + dir + " --chat --input-file " + msgs.string() + " --max-new-tokens 8 --json"));
  ASSERT_TRUE(r["success"].get<bool>()) << r.dump();
  EXPECT_EQ(r["generated_text"], words(kReply));

  // Interactive: one turn per stdin line; the reply is printed.
  fs::path in = fs::path(dir) / "turns.txt";
  std::ofstream(in) << words(kPrompt) << "\n/exit\n";
  std::string out = run("run " + dir + " --chat --max-new-tokens 8 --no-stream < " + in.string());
  EXPECT_EQ(out, words(kReply) + "\n");
}

TEST(ChatCli, TemplateErrorsAreReported) {
  const ScratchDir dir_scratch = chat_model_dir();
  std::string dir = dir_scratch.str();
  json cfg = {{"chat_template", "{{ raise_exception('no chatting today') }}"}};
  std::ofstream(fs::path(dir) / "tokenizer_config.json") << cfg.dump();
  int code = 0;
  json r = json::parse(run("run " + dir + " --chat --input hi --json", &code));
  EXPECT_NE(code, 0);
  EXPECT_FALSE(r["success"].get<bool>());
  EXPECT_NE(r["error"].get<std::string>().find("no chatting today"), std::string::npos) << r.dump();
}
