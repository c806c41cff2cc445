#include "composer/generate.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "backends/hardware.h"
#include "composer/bundled_model.h"
#include "composer/codegen_templates.h"
#include "composer/task_runner.h"
#include "core/error.h"
#include "registry/model_types.h"
#include "templates/family.h"

namespace ia {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) s.replace(pos, from.size(), to);
}

// A C++ string literal spelling `s`.
std::string literal(const std::string& s) {
  std::string r = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') r += '\\', r += char(c);
    else if (c == '\n') r += "\\n";
    else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03o", c);
      r += buf;
    } else r += char(c);
  }
  return r + "\"";
}

std::string identifier(const std::string& s) {
  std::string r;
  for (char c : s) r += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return r;
}

std::string camel(const std::string& key) {
  std::string r = "k";
  bool up = true;
  for (char c : key) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      up = true;
      continue;
    }
    r += up ? char(std::toupper(static_cast<unsigned char>(c))) : c;
    up = false;
  }
  return r;
}

void write_file(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << text;
  IA_CHECK(out.good(), p.string(), ": cannot write");
}

std::string project_cmake(const std::vector<GeneratedProgram>& programs) {
  std::string list;
  for (const auto& p : programs)
    if (p.not_generated.empty())
      list += cat("ia_generated_program(", p.program, " ${CMAKE_CURRENT_SOURCE_DIR}/", p.program, "/", p.program,
                  ".cpp \"", p.model_dir, "\")\n");
  std::string s = codegen::kProjectCMake;
  replace_all(s, "@PROGRAMS@", list);
  return s;
}

// Inputs for a model with its own tokenizer (not a bundled fixture).
std::vector<std::string> default_inputs(const std::string& task) {
  if (task == "fill-mask") return {"The capital of France is [MASK].", "The capital of France is <mask>."};
  if (task == "text-generation") return {"Hello, my name is"};
  return {"Hello world, this is a test."};
}

// `ipfs-accelerate run` arguments equivalent to a self-test request (the keys
// probe_request and default_inputs use).
std::vector<std::string> run_arguments(const json& q) {
  std::vector<std::string> a;
  auto text = [&](const char* key, const char* flag) {
    if (!q.contains(key)) return;
    a.push_back(flag);
    a.push_back(q[key].is_string() ? q[key].get<std::string>() : q[key].dump());
  };
  text("task", "--task");
  IA_CHECK(q.contains("inputs") && q["inputs"].size() == 1, "generate: a self-test request has one input");
  a.push_back("--input");
  a.push_back(q["inputs"][0].get<std::string>());
  text("prompt", "--prompt");
  text("points", "--points");
  text("labels", "--labels");
  text("hypothesis_template", "--hypothesis-template");
  text("max_new_tokens", "--max-new-tokens");
  text("docs", "--docs");
  text("n_docs", "--n-docs");
  if (q.contains("candidate_labels")) {
    std::string joined;
    for (const auto& l : q["candidate_labels"]) {
      IA_CHECK(l.get<std::string>().find(',') == std::string::npos, "generate: a candidate label holds a comma");
      joined += joined.empty() ? "" : ",";
      joined += l.get<std::string>();
    }
    a.push_back("--candidate-labels");
    a.push_back(joined);
  }
  for (auto it = q.begin(); it != q.end(); ++it)
    IA_CHECK(std::string("task inputs prompt points labels hypothesis_template max_new_tokens candidate_labels docs n_docs").find(it.key()) !=
                 std::string::npos,
             "generate: no run flag for self-test request key '", it.key(), "'");
  return a;
}

struct Resolved {
  std::string fixture;    // bundled fixture dir ("" for a user model directory)
  std::string model_dir;  // directory the model is loaded from at generation time
};

// The bundled fixture of `model_type` whose heads allow the most tasks.
std::string best_fixture(const std::string& models_root, const std::string& model_type) {
  std::string best;
  size_t best_tasks = 0;
  for (const auto& dir : bundled_fixture_dirs(models_root, model_type)) {
    size_t n = 0;
    try {
      n = load_model(dir)->tasks().size();
    } catch (const std::exception&) {
      continue;
    }
    if (best.empty() || n > best_tasks) best = dir, best_tasks = n;
  }
  return best;
}

}  // namespace

json to_json(const GeneratedProgram& p) {
  json skipped = json::array();
  for (const auto& [t, why] : p.skipped) skipped.push_back({{"task", t}, {"reason", why}});
  json j = {{"model_type", p.model_type}, {"family", p.family},       {"program", p.program},
            {"source", p.source_file},    {"model_dir", p.model_dir}, {"fixture", p.fixture},
            {"handlers", p.handlers},     {"skipped_tasks", skipped}, {"generated", p.not_generated.empty()}};
  if (!p.not_generated.empty()) j["reason"] = p.not_generated;
  if (p.error) j["error"] = true;
  return j;
}

namespace {

GeneratedProgram generate_one(const GenerateRequest& req, const fs::path& out) {
  GeneratedProgram prog;
  Resolved r;
  std::string model_type;
  if (fs::is_directory(req.target) && fs::exists(fs::path(req.target) / "config.json")) {
    bool fixture = fs::exists(fs::path(req.target) / "reference.json") && !fs::exists(fs::path(req.target) / "tokenizer.json");
    (fixture ? r.fixture : r.model_dir) = fs::absolute(req.target).lexically_normal().string();
    model_type = ModelContext::open(req.target).model_type;
  } else {
    model_type = req.target;
    IA_CHECK(find_model_type(model_type), "generate: '", model_type,
             "' is neither a model directory (with config.json) nor a transformers 4.44.2 model_type");
  }
  prog.model_type = model_type;
  prog.program = "hf_" + identifier(model_type);
  const ModelTypeInfo* info = find_model_type(model_type);
  prog.family = info ? family_name(info->family) : "?";
  if (!find_template(model_type)) {
    prog.not_generated = cat("model_type '", model_type, "' has no architecture template in this build");
    return prog;
  }
  if (r.fixture.empty() && r.model_dir.empty()) {
    r.fixture = best_fixture(req.models_root, model_type);
    if (r.fixture.empty()) {
      prog.not_generated = cat("no bundled fixture model for '", model_type, "' under ", req.models_root);
      return prog;
    }
  }
  const std::string pipeline = pipeline_name_for(model_type);
  if (!pipeline_implemented(pipeline)) {
    prog.not_generated = cat("the '", pipeline, "' pipeline template serving ", model_type, " has no implementation in the task dispatcher (pipelines/task_dispatch.cpp) of this build");
    return prog;
  }
  const fs::path prog_dir = out / prog.program;
  BundledModel bundled;
  if (!r.fixture.empty()) {
    bundled = read_bundled_model(r.fixture);
    prog.fixture = r.fixture;
    r.model_dir = fs::absolute(prog_dir / "model").lexically_normal().string();
    fs::remove_all(r.model_dir);
    write_runnable_copy(bundled, r.model_dir);
  }
  prog.model_dir = r.model_dir;

  std::unique_ptr<TaskRunner> runner;
  try {
    runner = std::make_unique<TaskRunner>(r.model_dir);
  } catch (const Unsupported& e) {
    prog.not_generated = e.what();
    return prog;
  }
  Model& model = runner->model();
  const json params = model.describe();
  std::vector<std::string> tasks = model.tasks();
  if (!req.task.empty()) {
    IA_CHECK(std::find(tasks.begin(), tasks.end(), req.task) != tasks.end(), "generate: task '", req.task,
             "' is not served by ", model_type, " (its heads allow: ", json(tasks).dump(), ")");
    tasks = {req.task};
  }

  // Handlers: every task that runs on the model through its pipeline, decided by running it.
  std::string handler_fns, handler_table;
  const std::string inputs_dir = (prog_dir / "inputs").string();
  for (const auto& task : tasks) {
    std::vector<json> candidates;
    if (!r.fixture.empty()) {
      candidates.push_back(probe_request(bundled, r.model_dir, task));
    } else if (write_probe_input(model_type, inputs_dir)) {
      // A user's image / audio model: the built-in image or WAV, written next to the program.
      BundledModel stub;
      stub.model_type = model_type;
      candidates.push_back(probe_request(stub, inputs_dir, task));
    } else {
      for (const auto& c : default_inputs(task)) {
        json q = {{"task", task}, {"inputs", {c}}};
        if (task == "text-generation") q["max_new_tokens"] = 8;
        candidates.push_back(q);
      }
    }
    json chosen;
    std::string error;
    for (const auto& c : candidates) {
      json res = runner->run(c);
      if (res.value("success", false)) {
        chosen = c;
        break;
      }
      error = res.value("error", std::string("failed"));
    }
    if (chosen.is_null()) {
      prog.skipped.emplace_back(task, error);
      continue;
    }
    prog.handlers.push_back(task);
    std::string fn = "handle_" + identifier(task);
    handler_fns += cat("rt::TaskResult ", fn, "(rt::Session& s, const std::string& request_json) {\n",
                       "  return s.run(", literal(task), ", request_json);\n}\n");
    std::string expected;
    const bool generation = task == "text-generation" || task == "text2text-generation" || task == "summarization" ||
                            task == "translation";
    if (generation && !r.fixture.empty() && !bundled.prompt_ids.empty())
      for (int64_t id : bundled.expected_new_ids) {
        expected += expected.empty() ? "" : " ";
        expected += std::to_string(id);
      }
    std::string args;
    for (const auto& a : run_arguments(chosen)) {
      IA_CHECK(a.find('\t') == std::string::npos && !a.empty(), "generate: a self-test argument is empty or holds a tab");
      args += args.empty() ? "" : "\t";
      args += a;
    }
    handler_table += cat("    {", literal(task), ", ", fn, ", ", literal(chosen.dump()), ", ", literal(expected), ", ",
                         literal(args), "},\n");
  }
  if (prog.handlers.empty()) {
    std::string why = "no task has a working pipeline handler";
    for (const auto& [t, e] : prog.skipped) why += cat("; ", t, ": ", e);
    prog.not_generated = why;
    return prog;
  }

  std::vector<std::string> hardware = req.hardware.empty() ? hardware_names() : req.hardware;
  std::string inits, table, hw_list;
  for (const auto& h : hardware) {
    IA_CHECK(find_hardware(h), "generate: unknown hardware '", h, "'");
    inits += cat("rt::HardwareInit init_", identifier(h), "() { return rt::init_hardware(", literal(h), "); }\n");
    table += cat("    {", literal(h), ", init_", identifier(h), "},\n");
    hw_list += hw_list.empty() ? "" : ", ";
    hw_list += h;
  }
  std::string sizes;
  for (auto it = params.begin(); it != params.end(); ++it)
    if (it.value().is_number_integer()) sizes += cat("constexpr int64_t ", camel(it.key()), " = ", it.value().get<int64_t>(), ";\n");

  std::string src = codegen::kProgramSource;
  std::string params_text = params.dump(2);
  IA_CHECK(params_text.find(")ia_params\"") == std::string::npos, "generate: template parameters contain the raw-string delimiter");
  replace_all(src, "@TEMPLATE_PARAMS@", params_text);  // first: the others must not be applied inside it
  replace_all(src, "@SIZE_CONSTANTS@", sizes);
  replace_all(src, "@HARDWARE_INITS@", inits);
  replace_all(src, "@HARDWARE_TABLE@", table);
  replace_all(src, "@HARDWARE_LIST@", hw_list);
  replace_all(src, "@HANDLERS@", handler_fns);
  replace_all(src, "@HANDLER_TABLE@", handler_table);
  replace_all(src, "@PROGRAM@", prog.program);
  replace_all(src, "@MODEL_TYPE@", model_type);
  replace_all(src, "@FAMILY@", family_name(model.family()));
  replace_all(src, "@ARCHITECTURE@", ModelContext::open(r.model_dir).architecture);
  replace_all(src, "@PIPELINE@", runner->pipeline_name());
  replace_all(src, "@FIXTURE@", r.fixture.empty() ? r.model_dir + " (referenced by path)" : r.fixture + " (copied to ./model)");
  prog.family = family_name(model.family());
  prog.source_file = (prog_dir / (prog.program + ".cpp")).string();
  write_file(prog.source_file, src);
  return prog;
}

}  // namespace

GeneratedProgram generate_program(const GenerateRequest& req) {
  fs::path out = fs::absolute(req.out_dir).lexically_normal();
  GeneratedProgram p = generate_one(req, out);
  IA_CHECK(p.not_generated.empty(), "generate ", req.target, ": ", p.not_generated);
  write_file(out / "CMakeLists.txt", project_cmake({p}));
  return p;
}

json generate_all(const GenerateRequest& req_in) {
  fs::path out = fs::absolute(req_in.out_dir).lexically_normal();
  std::vector<GeneratedProgram> programs;
  for (const auto& type : supported_model_types()) {
    GenerateRequest req = req_in;
    req.target = type;
    req.task.clear();
    try {
      programs.push_back(generate_one(req, out));
    } catch (const std::exception& e) {
      GeneratedProgram failed;
      failed.model_type = type;
      failed.program = "hf_" + identifier(type);
      failed.not_generated = e.what();
      failed.error = true;
      programs.push_back(failed);
    }
  }
  write_file(out / "CMakeLists.txt", project_cmake(programs));
  json summary = {{"out_dir", out.string()}, {"programs", json::array()}};
  size_t generated = 0;
  for (const auto& p : programs) {
    summary["programs"].push_back(to_json(p));
    generated += p.not_generated.empty();
  }
  summary["supported_model_types"] = programs.size();
  summary["generated"] = generated;
  summary["errors"] = std::count_if(programs.begin(), programs.end(), [](const GeneratedProgram& p) { return p.error; });
  write_file(out / "generate_summary.json", summary.dump(2) + "\n");

  std::ostringstream md;
  md << "# Generated implementations\n\nWritten by `ipfs-accelerate generate --all`: one program per supported model type ("
     << generated << " of " << programs.size() << " generated). Build them with\n`cmake -S " << out.string()
     << " -B build -DCMAKE_PREFIX_PATH=<install prefix> && cmake --build build -j2`;\neach program run with no arguments "
        "runs every handler on its bundled model.\n\n| model type | family | program | handlers | tasks without a handler |\n|---|---|---|---|---|\n";
  for (const auto& p : programs) {
    std::string hs, sk;
    for (const auto& h : p.handlers) {
      hs += hs.empty() ? "" : ", ";
      hs += h;
    }
    for (const auto& [t, why] : p.skipped) {
      sk += sk.empty() ? "" : "; ";
      sk += t + " (" + why + ")";
    }
    if (!p.not_generated.empty()) sk = "not generated: " + p.not_generated;
    replace_all(sk, "|", "\\|");
    md << "| `" << p.model_type << "` | " << p.family << " | " << (p.not_generated.empty() ? "`" + p.program + "`" : "-") << " | "
       << hs << " | " << sk << " |\n";
  }
  write_file(out / "GENERATED.md", md.str());
  return summary;
}

}  // namespace ia
