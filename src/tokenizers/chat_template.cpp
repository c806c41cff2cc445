// Tokenizer::apply_chat_template: transformers 4.44.2's apply_chat_template
// (tokenize=False): pick the template (named templates: the requested one,
// else "tool_use" when tools are given, else "default"), then render it with
// messages, tools, documents, add_generation_prompt and the special tokens
// (bos_token, eos_token, unk_token, sep_token, pad_token, cls_token,
// mask_token, additional_special_tokens) as variables.
#include "chat/jinja.h"
#include "core/error.h"
#include "tokenizers/tokenizer.h"

namespace ia {

namespace {

std::string pick_template(const Tokenizer& tok, const ChatTemplateOptions& opt, bool have_tools) {
  if (!opt.template_text.empty()) return opt.template_text;
  const auto& named = tok.chat_templates;
  auto find = [&](const std::string& name) -> const std::string* {
    for (const auto& [n, t] : named)
      if (n == name) return &t;
    return nullptr;
  };
  if (named.empty()) {
    if (!tok.chat_template.empty() && (opt.template_name.empty() || opt.template_name == "default"))
      return tok.chat_template;
    fail("cannot apply a chat template: the tokenizer has no chat_template (tokenizer_config.json) and none was given");
  }
  if (!opt.template_name.empty()) {
    if (const std::string* t = find(opt.template_name)) return *t;
    std::string names;
    for (const auto& [n, t] : named) names += (names.empty() ? "" : ", ") + n;
    fail("no chat template named '", opt.template_name, "' (available: ", names, ")");
  }
  if (have_tools)
    if (const std::string* t = find("tool_use")) return *t;
  if (const std::string* t = find("default")) return *t;
  std::string names;
  for (const auto& [n, t] : named) names += (names.empty() ? "" : ", ") + n;
  fail("this tokenizer has several chat templates and no 'default'; choose one of: ", names);
}

jinja::Value render_context(const Tokenizer& tok, jinja::Value messages, bool add_generation_prompt,
                            const ChatTemplateOptions& opt) {
  using jinja::Value;
  Value ctx = Value::make_dict();
  auto& d = *ctx.dict;
  d.set("messages", std::move(messages));
  Value tools = opt.tools_json.empty() ? Value::none() : jinja::from_json_text(opt.tools_json, "tools");
  if (!tools.is_none()) IA_CHECK(tools.is_list(), "tools: expected a JSON list of tool schemas");
  d.set("tools", tools);
  Value docs = opt.documents_json.empty() ? Value::none() : jinja::from_json_text(opt.documents_json, "documents");
  if (!docs.is_none()) {
    IA_CHECK(docs.is_list(), "documents: expected a JSON list");
    for (const auto& e : *docs.list) IA_CHECK(e.is_dict(), "documents: every document must be an object with 'title' and 'text'");
  }
  d.set("documents", docs);
  d.set("add_generation_prompt", Value::boolean(add_generation_prompt));
  for (auto [key, v] : {std::pair{"bos_token", &tok.bos_token}, std::pair{"eos_token", &tok.eos_token},
                        std::pair{"unk_token", &tok.unk_token}, std::pair{"sep_token", &tok.sep_token},
                        std::pair{"pad_token", &tok.pad_token}, std::pair{"cls_token", &tok.cls_token},
                        std::pair{"mask_token", &tok.mask_token}})
    if (!v->empty()) d.set(key, Value::string(*v));
  if (!tok.additional_special_tokens.empty()) {
    jinja::List extra;
    for (const auto& s : tok.additional_special_tokens) extra.push_back(Value::string(s));
    d.set("additional_special_tokens", Value::make_list(std::move(extra)));
  }
  if (!opt.extra_json.empty()) {
    Value extra = jinja::from_json_text(opt.extra_json, "chat template variables");
    IA_CHECK(extra.is_dict(), "chat template variables: expected a JSON object");
    for (const auto& [k, v] : extra.dict->items) d.set(k, v);
  }
  return ctx;
}

std::string render(const Tokenizer& tok, jinja::Value messages, bool add_generation_prompt,
                   const ChatTemplateOptions& opt) {
  std::string source = pick_template(tok, opt, !opt.tools_json.empty());
  jinja::Template t(source, "chat_template");
  return t.render(render_context(tok, std::move(messages), add_generation_prompt, opt));
}

}  // namespace

std::string Tokenizer::apply_chat_template(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                                           const ChatTemplateOptions& opt) const {
  using jinja::Value;
  jinja::List list;
  for (const auto& m : messages) {
    Value d = Value::make_dict();
    d.dict->set("role", Value::string(m.role));
    d.dict->set("content", Value::string(m.content));
    list.push_back(d);
  }
  return render(*this, Value::make_list(std::move(list)), add_generation_prompt, opt);
}

std::string Tokenizer::apply_chat_template_json(const std::string& messages_json, bool add_generation_prompt,
                                                const ChatTemplateOptions& opt) const {
  jinja::Value messages = jinja::from_json_text(messages_json, "messages");
  if (messages.is_dict() && messages.dict->find("messages")) messages = *messages.dict->find("messages");
  IA_CHECK(messages.is_list(), "messages: expected a JSON list of {\"role\": ..., \"content\": ...} objects");
  for (size_t i = 0; i < messages.list->size(); ++i)
    IA_CHECK((*messages.list)[i].is_dict(), "messages[", i, "]: expected an object");
  return render(*this, std::move(messages), add_generation_prompt, opt);
}

}  // namespace ia
