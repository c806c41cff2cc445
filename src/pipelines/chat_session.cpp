#include "pipelines/chat_session.h"

#include "core/error.h"

namespace ia {

ChatSession::ChatSession(TextPipeline& pipe, ChatTemplateOptions opt) : pipe_(pipe), opt_(std::move(opt)) {}

void ChatSession::set_messages_json(const std::string& text, const std::string& source) {
  nlohmann::ordered_json j;
  try {
    j = nlohmann::ordered_json::parse(text);
  } catch (const std::exception& e) {
    fail(source, ": malformed JSON: ", e.what());
  }
  if (j.is_object() && j.contains("messages")) j = j["messages"];
  IA_CHECK(j.is_array(), source, ": expected a list of messages or {\"messages\": [...]}");
  for (size_t i = 0; i < j.size(); ++i) {
    IA_CHECK(j[i].is_object(), source, ": messages[", i, "]: expected an object");
    IA_CHECK(j[i].contains("role") && j[i]["role"].is_string(), source, ": messages[", i, "].role: expected a string");
  }
  messages_ = std::move(j);
}

void ChatSession::add(const std::string& role, const std::string& content) {
  messages_.push_back({{"role", role}, {"content", content}});
}

void ChatSession::set_system(const std::string& content) {
  nlohmann::ordered_json m = {{"role", "system"}, {"content", content}};
  if (!messages_.empty() && messages_[0].value("role", "") == "system") messages_[0] = m;
  else messages_.insert(messages_.begin(), m);
}

std::string ChatSession::prompt() const {
  return pipe_.tokenizer().apply_chat_template_json(messages_.dump(), true, opt_);
}

nlohmann::json ChatSession::reply(GenerationSettings g, const std::function<void(const std::string&)>& on_text) {
  TextRequest req;
  req.task = "text-generation";
  req.inputs = {prompt()};
  g.add_special_tokens = false;  // the template already placed BOS etc.
  req.generation = std::move(g);
  req.on_text = on_text;
  nlohmann::json r = pipe_.run(req);
  if (!r.value("success", false)) fail(r.value("error", std::string("generation failed")));
  add("assistant", r["generated_text"].get<std::string>());
  r["prompt"] = req.inputs[0];
  r["messages"] = nlohmann::json::parse(messages_.dump());
  return r;
}

}  // namespace ia
