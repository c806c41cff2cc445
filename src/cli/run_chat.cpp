#include "cli/run_chat.h"

#include <fstream>
#include <iostream>
#include <iterator>

#include "core/error.h"
#include "pipelines/chat_session.h"
#include "pipelines/pipeline_result.h"

namespace ia::cli {

namespace {
std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  IA_CHECK(in.good(), path, ": cannot open");
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

int run_chat(const ChatRunOptions& o, const std::function<void(GenerationSettings&)>& apply_flags) {
  nlohmann::json result;
  bool streamed = false;
  try {
    TextPipeline pipe(o.model_dir);
    ChatSession chat(pipe);
    if (!o.input_file.empty()) {
      std::string text = read_text(o.input_file);
      if (ends_with(o.input_file, ".json")) chat.set_messages_json(text, o.input_file);
      else chat.add("user", text);
    }
    if (!o.system.empty()) chat.set_system(o.system);
    if (!o.input.empty()) chat.add("user", o.input);
    GenerationSettings g = pipe.generation_defaults();
    apply_flags(g);
    auto stream = [&streamed](const std::string& piece) {
      std::cout << piece << std::flush;
      streamed = true;
    };
    bool one_shot = !o.input.empty() || !o.input_file.empty();
    if (one_shot) {
      result = chat.reply(g, o.json || o.no_stream ? std::function<void(const std::string&)>() : stream);
    } else {
      // Interactive: one user turn per line.
      std::string line;
      while (true) {
        std::cerr << "> " << std::flush;
        if (!std::getline(std::cin, line) || line == "/exit") break;
        if (line.empty()) continue;
        chat.add("user", line);
        result = chat.reply(g, o.no_stream ? std::function<void(const std::string&)>() : stream);
        if (o.no_stream) std::cout << result["generated_text"].get<std::string>();
        std::cout << std::endl;
        streamed = false;
      }
      if (result.is_null()) result = success_result("messages", nlohmann::json::parse(chat.messages().dump()));
      if (!o.json) return 0;
    }
  } catch (const std::exception& e) {
    result = error_result(e.what());
  }
  if (o.json) {
    std::cout << result.dump(2) << std::endl;
  } else if (!result["success"].get<bool>()) {
    std::cerr << "error: " << result["error"].get<std::string>() << std::endl;
  } else if (streamed) {
    std::cout << std::endl;
  } else {
    std::cout << result["generated_text"].get<std::string>() << std::endl;
  }
  return result["success"].get<bool>() ? 0 : 1;
}

}  // namespace ia::cli
