// Chat templates against jinja2's own renderings: tests/fixtures/chat_templates/
// cases.jsonl (real-world templates: ChatML/Qwen2, LLaMA-2, LLaMA-3, LLaMA-3.1
// tools, Phi-3, Mistral v1/v3 tools, Gemma, Zephyr, LLaVA parts, Hermes tools;
// plus one case per construct) and tokenizer_cases.jsonl (bundled tokenizers'
// templates through Tokenizer::apply_chat_template_json). Both files are made
// by make_cases.py with python3-jinja2 in transformers' environment.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "chat/jinja.h"
#include "core/error.h"
#include "tokenizers/tokenizer.h"

namespace {

using ordered_json = nlohmann::ordered_json;

std::vector<ordered_json> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::vector<ordered_json> out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(ordered_json::parse(line));
  return out;
}

const std::string kDir = std::string(IA_FIXTURES_DIR) + "/chat_templates/";

std::string render(const std::string& tmpl, const std::string& context_json) {
  ia::jinja::Template t(tmpl, "chat_template");
  return t.render(ia::jinja::from_json_text(context_json, "context"));
}

}  // namespace

TEST(ChatTemplates, MatchJinja2Renderings) {
  auto cases = read_jsonl(kDir + "cases.jsonl");
  ASSERT_GE(cases.size(), 100u);
  int checked = 0;
  for (const auto& c : cases) {
    std::string id = c["id"];
    std::string tmpl = c["template"];
    std::string ctx = c["context"].dump();
    if (c.contains("expected")) {
      std::string got;
      try {
        got = render(tmpl, ctx);
      } catch (const std::exception& e) {
        ADD_FAILURE() << id << ": threw " << e.what();
        continue;
      }
      EXPECT_EQ(got, c["expected"].get<std::string>()) << id;
    } else {
      std::string want = c["error_contains"];
      try {
        std::string got = render(tmpl, ctx);
        ADD_FAILURE() << id << ": expected an error containing '" << want << "', rendered " << got;
      } catch (const ia::Error& e) {
        EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << id << ": " << e.what();
      }
    }
    ++checked;
  }
  EXPECT_EQ(checked, int(cases.size()));
}

TEST(ChatTemplates, BundledTokenizersApplyTheirTemplates) {
  auto cases = read_jsonl(kDir + "tokenizer_cases.jsonl");
  ASSERT_GE(cases.size(), 20u);
  for (const auto& c : cases) {
    std::string name = c["tokenizer"];
    auto tok = ia::Tokenizer::from_dir(std::string(IA_FIXTURES_DIR) + "/tokenizers/" + name);
    ia::ChatTemplateOptions opt;
    if (!c["template_text"].is_null()) opt.template_text = c["template_text"];
    std::string got = tok.apply_chat_template_json(c["messages"].dump(), c["add_generation_prompt"].get<bool>(), opt);
    EXPECT_EQ(got, c["expected"].get<std::string>()) << name << " " << c["template"];
  }
}

TEST(ChatTemplates, StructMessagesAndSpecialTokensEncodeAsSingleIds) {
  auto tok = ia::Tokenizer::from_dir(std::string(IA_FIXTURES_DIR) + "/tokenizers/phi-3-mini");
  ASSERT_FALSE(tok.chat_template.empty());
  std::string s = tok.apply_chat_template({{"system", "Be brief."}, {"user", "Hi"}}, true);
  EXPECT_EQ(s, "<|system|>\nBe brief.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\n");
  auto enc = tok.encode(s, false);
  auto end_id = tok.token_to_id("<|end|>");
  ASSERT_TRUE(end_id.has_value());
  EXPECT_EQ(std::count(enc.ids.begin(), enc.ids.end(), *end_id), 2);
}

TEST(ChatTemplates, NamedTemplatesAndMissingTemplate) {
  auto gpt2 = ia::Tokenizer::from_dir(std::string(IA_FIXTURES_DIR) + "/tokenizers/gpt2");
  try {
    gpt2.apply_chat_template({{"user", "x"}}, false);
    FAIL() << "expected an error";
  } catch (const ia::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no chat_template"), std::string::npos) << e.what();
  }
  gpt2.chat_templates = {{"default", "D:{{ messages[0].content }}"}, {"tool_use", "T:{{ tools|length }}"},
                         {"rag", "R:{{ documents[0].title }}"}};
  EXPECT_EQ(gpt2.apply_chat_template({{"user", "x"}}, false), "D:x");
  ia::ChatTemplateOptions opt;
  opt.tools_json = R"([{"type": "function", "function": {"name": "f"}}])";
  EXPECT_EQ(gpt2.apply_chat_template({{"user", "x"}}, false, opt), "T:1");
  ia::ChatTemplateOptions rag;
  rag.template_name = "rag";
  rag.documents_json = R"([{"title": "Doc", "text": "t"}])";
  EXPECT_EQ(gpt2.apply_chat_template({{"user", "x"}}, false, rag), "R:Doc");
  rag.template_name = "nope";
  EXPECT_THROW(gpt2.apply_chat_template({{"user", "x"}}, false, rag), ia::Error);
  ia::ChatTemplateOptions extra;
  extra.template_text = "{{ bos_token }}|{{ eos_token }}|{{ date_string }}";
  extra.extra_json = R"({"date_string": "today", "eos_token": "EOS"})";
  EXPECT_EQ(gpt2.apply_chat_template({}, false, extra), "<|endoftext|>|EOS|today");
}

TEST(ChatTemplates, MalformedMessagesAreClearErrors) {
  auto tok = ia::Tokenizer::from_dir(std::string(IA_FIXTURES_DIR) + "/tokenizers/phi-3-mini");
  EXPECT_THROW(tok.apply_chat_template_json("{not json", false), ia::Error);
  EXPECT_THROW(tok.apply_chat_template_json("[1, 2]", false), ia::Error);
  EXPECT_THROW(tok.apply_chat_template_json("\"hello\"", false), ia::Error);
  // A missing field of a message is jinja2's Undefined: concatenating it raises.
  try {
    tok.apply_chat_template_json(R"([{"role": "user"}])", false);
    FAIL() << "expected an error";
  } catch (const ia::Error& e) {
    EXPECT_NE(std::string(e.what()).find("has no attribute 'content'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("chat_template:"), std::string::npos) << e.what();
  }
}
