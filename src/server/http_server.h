// The HTTP server: one model directory served over an OpenAI-compatible API
// plus task endpoints. Requests are validated (size, fields) before they reach
// the model; the model runs one request at a time (its caches are per model).
//
//   GET  /health                 status, model, family, device
//   GET  /v1/models              OpenAI model list (the one served model)
//   POST /v1/completions         text-generation (stream: server-sent events)
//   POST /v1/embeddings          feature-extraction
//   POST /v1/tasks/<task>        any task of the text pipeline: {"inputs", "parameters"} -> pipeline result
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "server/openai_api.h"

namespace ia::server {

struct ServerOptions {
  std::string model_dir;
  std::string model_id;          // name reported to clients (default: the directory's name)
  std::string host = "127.0.0.1";
  int port = 8080;               // 0 = any free port (see Server::port())
  size_t max_body_bytes = 1 << 20;
  ServerLimits limits;
};

class Server {
 public:
  explicit Server(ServerOptions opts);  // loads the model (errors name the file)
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the socket; returns the bound port. Throws if the address is unavailable.
  int bind();
  // Serves until stop() (blocking). Call bind() first.
  void listen();
  void stop();
  int port() const { return port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace ia::server
