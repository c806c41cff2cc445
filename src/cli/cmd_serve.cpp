#include <csignal>
#include <iostream>

#include "cli/commands.h"
#include "server/http_server.h"

namespace ia::cli {

namespace {
server::Server* g_server = nullptr;
void on_signal(int) {
  if (g_server) g_server->stop();
}
}  // namespace

Action add_serve(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "Serve a model over HTTP: OpenAI-compatible API plus task endpoints");
  auto o = std::make_shared<server::ServerOptions>();
  cmd->add_option("model_dir", o->model_dir, "Hugging Face model directory")->required();
  cmd->add_option("--host", o->host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", o->port, "Port (0 = any free port)")->capture_default_str();
  add_weights_option(cmd);
  cmd->add_option("--model-id", o->model_id, "Model name reported to clients (default: directory name)");
  cmd->add_option("--max-body-bytes", o->max_body_bytes, "Largest request body accepted (413 beyond)")->capture_default_str();
  cmd->add_option("--max-new-tokens-limit", o->limits.max_new_tokens, "Largest max_tokens a request may ask for")
      ->capture_default_str();
  return [o]() {
    server::Server srv(*o);
    int port = srv.bind();
    g_server = &srv;
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::cout << "serving " << o->model_dir << " on http://" << o->host << ":" << port << std::endl;
    srv.listen();
    g_server = nullptr;
    return 0;
  };
}

}  // namespace ia::cli
