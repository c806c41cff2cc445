#include "server/http_server.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>

#include "core/error.h"
#include "pipelines/chat_session.h"
#include "pipelines/pipeline_result.h"
#include "pipelines/pipeline_templates.h"
#include "pipelines/stable_diffusion_task.h"
#include "pipelines/task_dispatch.h"
#include "templates/family.h"

namespace ia::server {

using json = nlohmann::json;

namespace {

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message, const std::string& type,
                const std::string& param = "") {
  send_json(res, status, error_body(message, type, param));
}

json parse_body(const httplib::Request& req) {
  try {
    return json::parse(req.body);
  } catch (const json::exception& e) {
    throw ApiError(400, "invalid_request_error", "", cat("malformed JSON body: ", e.what()));
  }
}

// Thrown from the streaming callback when the client has gone away.
struct ClientGone {};

// What the directory holds, read without loading weights: the OpenAI text endpoints
// need a text pipeline; every other family is served by /v1/tasks only.
struct ServedModel {
  std::string model_type;
  Family family = Family::Other;
  std::vector<std::string> tasks;  // the family's pipeline template's tasks
  bool text = false;
};

ServedModel served_model(const std::string& dir) {
  ServedModel m;
  if (is_stable_diffusion_dir(dir)) {
    m.model_type = "stable-diffusion";
    m.family = Family::Diffusion;
  } else {
    m.model_type = ModelContext::open(dir).model_type;
    const FamilyTemplate* t = find_template(m.model_type);
    m.family = t ? t->family : Family::Other;
  }
  m.text = m.family == Family::EncoderOnly || m.family == Family::DecoderOnly || m.family == Family::EncoderDecoder ||
           m.family == Family::MixtureOfExperts || m.family == Family::StateSpace || m.family == Family::Other;
  if (const PipelineTemplate* p = pipeline_for_family(m.family))
    for (const auto& t : p->tasks) m.tasks.push_back(t.task);
  return m;
}

}  // namespace

struct Server::Impl {
  ServerOptions opts;
  ServedModel served;
  std::unique_ptr<TextPipeline> text_pipe;  // text families only
  TaskDispatcher tasks;  // /v1/tasks: every pipeline, sharing the text pipeline when there is one
  GenerationSettings defaults;
  std::mutex model_mutex;  // the model's caches are per model: one request at a time
  std::atomic<uint64_t> next_id{1};
  httplib::Server http;

  explicit Impl(ServerOptions o) : opts(std::move(o)), served(served_model(opts.model_dir)), tasks(opts.model_dir) {
    if (served.text) {
      text_pipe = std::make_unique<TextPipeline>(opts.model_dir);
      defaults = text_pipe->generation_defaults();
      served.tasks = text_pipe->model().tasks();
      tasks.adopt("text", text_binding_on(*text_pipe, text_pipe->model().family()));
    } else if (served.model_type != "stable-diffusion") {
      const ModelContext ctx = ModelContext::open(opts.model_dir);
      defaults = generation_defaults(ctx.generation_config, ctx.config);
    }
    if (opts.model_id.empty()) opts.model_id = std::filesystem::path(opts.model_dir).filename().string();
    if (opts.model_id.empty()) opts.model_id = std::filesystem::path(opts.model_dir).parent_path().filename().string();
    http.set_payload_max_length(opts.max_body_bytes);
    routes();
  }

  std::string new_id(const char* prefix) { return cat(prefix, "-", next_id++); }

  // The text pipeline of the OpenAI endpoints; other families get a client error naming /v1/tasks.
  TextPipeline& pipe() {
    if (!text_pipe)
      throw ApiError(400, "invalid_request_error", "model",
                     cat(opts.model_id, " is a ", family_name(served.family), " model (", served.model_type,
                         "): use /v1/tasks/<task> (tasks: ", [&] {
                           std::string t;
                           for (const auto& x : served.tasks) t += (t.empty() ? "" : ", ") + x;
                           return t;
                         }(), ")"));
    return *text_pipe;
  }

  // Runs `fn` turning request errors into OpenAI error bodies.
  template <class Fn>
  void guarded(httplib::Response& res, Fn&& fn) {
    try {
      fn();
    } catch (const ApiError& e) {
      send_error(res, e.status, e.what(), e.type, e.param);
    } catch (const std::exception& e) {
      send_error(res, 500, e.what(), "server_error");
    }
  }

  // A pipeline result is a client error when the pipeline rejected the request.
  void check_result(const json& r) {
    if (!r.value("success", false))
      throw ApiError(400, "invalid_request_error", "", r.value("error", std::string("request failed")));
  }

  void routes() {
    http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
      send_json(res, 200,
                {{"status", "ok"},
                 {"model", opts.model_id},
                 {"model_type", served.model_type},
                 {"family", family_name(served.family)},
                 {"tasks", served.tasks},
                 {"device", "cpu"}});
    });
    http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
      send_json(res, 200,
                {{"object", "list"},
                 {"data", {{{"id", opts.model_id}, {"object", "model"}, {"created", 0}, {"owned_by", "ipfs-accelerate"}}}}});
    });
    http.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
      guarded(res, [&] { completions(req, res); });
    });
    http.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      guarded(res, [&] { chat_completions(req, res); });
    });
    http.Post("/v1/embeddings", [this](const httplib::Request& req, httplib::Response& res) {
      guarded(res, [&] {
        TextRequest tr = embeddings_request(parse_body(req), opts.limits);
        json r;
        int64_t tokens = 0;
        {
          std::lock_guard<std::mutex> lock(model_mutex);
          r = pipe().run(tr);
        }
        check_result(r);
        for (const auto& t : tr.inputs) tokens += int64_t(pipe().tokenizer().encode(t, true).ids.size());
        send_json(res, 200, embeddings_response(r, opts.model_id, tokens));
      });
    });
    http.Post(R"(/v1/tasks/([A-Za-z0-9_\-]+))", [this](const httplib::Request& req, httplib::Response& res) {
      guarded(res, [&] {
        json q = task_dispatch_request(req.matches[1].str(), parse_body(req), defaults, opts.limits);
        json r;
        {
          std::lock_guard<std::mutex> lock(model_mutex);
          r = tasks.run(q);
        }
        send_json(res, r.value("success", false) ? 200 : 400, r);
      });
    });
    http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (res.status == 413)
        send_error(res, 413, "request body too large", "invalid_request_error");
      else if (res.status == 404)
        send_error(res, 404, cat("no route for ", req.method, " ", req.path), "not_found_error");
      else if (res.body.empty())
        send_error(res, res.status, cat("HTTP ", res.status), "invalid_request_error");
    });
  }

  // Renders the conversation with the tokenizer's chat template and generates the reply.
  // A model without a chat template is a client error (the server cannot guess one).
  json chat_reply(const ChatRequest& cr, const std::function<void(const std::string&)>& on_text) {
    std::lock_guard<std::mutex> lock(model_mutex);
    ChatSession session(pipe());
    try {
      session.set_messages_json(cr.messages_json, "messages");
      (void)session.prompt();  // template errors (no template, raise_exception) before any output
    } catch (const Error& e) {
      throw ApiError(400, "invalid_request_error", "messages", e.what());
    }
    return session.reply(cr.generation, on_text);
  }

  void chat_completions(const httplib::Request& req, httplib::Response& res) {
    (void)pipe();
    bool stream = false;
    ChatRequest cr = chat_request(parse_body(req), defaults, opts.limits, &stream);
    const std::string id = new_id("chatcmpl");
    const int64_t created = unix_now();
    if (!stream) {
      send_json(res, 200, chat_response(chat_reply(cr, nullptr), opts.model_id, id, created));
      return;
    }
    res.set_chunked_content_provider("text/event-stream", [this, cr, id, created](size_t, httplib::DataSink& sink) {
      auto event = [&](const json& j) {
        std::string line = "data: " + j.dump() + "\n\n";
        if (!sink.write(line.data(), line.size())) throw ClientGone{};
      };
      try {
        bool first = true;
        try {
          json r = chat_reply(cr, [&](const std::string& piece) {
            event(chat_chunk(piece, first, "", opts.model_id, id, created));
            first = false;
          });
          const std::string reason = r["generation"][0].value("finish_reason", std::string("stop"));
          event(chat_chunk("", first, reason == "length" ? "length" : "stop", opts.model_id, id, created));
        } catch (const ApiError& e) {
          event(error_body(e.what(), e.type, e.param));
        } catch (const Error& e) {
          event(error_body(e.what(), "server_error"));
        }
        static const char done[] = "data: [DONE]\n\n";
        sink.write(done, sizeof(done) - 1);
        sink.done();
      } catch (const ClientGone&) {
        return false;
      }
      return true;
    });
  }

  void completions(const httplib::Request& req, httplib::Response& res) {
    (void)pipe();  // a tasks-only model fails here, before any streaming starts
    bool stream = false;
    TextRequest tr = completion_request(parse_body(req), defaults, opts.limits, &stream);
    const std::string id = new_id("cmpl");
    const int64_t created = unix_now();
    if (!stream) {
      json r;
      {
        std::lock_guard<std::mutex> lock(model_mutex);
        r = pipe().run(tr);
      }
      check_result(r);
      send_json(res, 200, completion_response(r, opts.model_id, id, created));
      return;
    }
    // Server-sent events: one chunk per piece of text as it is produced, then the
    // finish reason and [DONE], as OpenAI streams completions.
    res.set_chunked_content_provider("text/event-stream", [this, tr, id, created](size_t, httplib::DataSink& sink) mutable {
      auto event = [&](const json& j) {
        std::string line = "data: " + j.dump() + "\n\n";
        if (!sink.write(line.data(), line.size())) throw ClientGone{};
      };
      try {
        tr.on_text = [&](const std::string& piece) { event(completion_chunk(piece, "", opts.model_id, id, created)); };
        json r;
        {
          std::lock_guard<std::mutex> lock(model_mutex);
          r = pipe().run(tr);
        }
        if (!r.value("success", false)) {
          event(error_body(r.value("error", std::string("request failed")), "invalid_request_error"));
        } else {
          std::string reason = r["generation"][0].value("finish_reason", std::string("stop"));
          event(completion_chunk("", reason == "length" ? "length" : "stop", opts.model_id, id, created));
        }
        static const char done[] = "data: [DONE]\n\n";
        sink.write(done, sizeof(done) - 1);
        sink.done();
      } catch (const ClientGone&) {
        return false;  // client disconnected: generation stops at the next piece
      }
      return true;
    });
  }
};

Server::Server(ServerOptions opts) : impl_(std::make_unique<Impl>(std::move(opts))) {}
Server::~Server() { stop(); }

int Server::bind() {
  const auto& o = impl_->opts;
  if (o.port == 0) {
    port_ = impl_->http.bind_to_any_port(o.host);
    IA_CHECK(port_ > 0, "serve: cannot bind ", o.host, " to any port");
  } else {
    IA_CHECK(impl_->http.bind_to_port(o.host, o.port), "serve: cannot bind ", o.host, ":", o.port,
             " (address in use or not permitted)");
    port_ = o.port;
  }
  return port_;
}

void Server::listen() { impl_->http.listen_after_bind(); }
void Server::stop() {
  if (impl_ && impl_->http.is_running()) impl_->http.stop();
}

}  // namespace ia::server
