#include "verify/verify.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "core/error.h"
#include "formats/safetensors.h"
#include "templates/model.h"
#include "verify/case_runner.h"

namespace ia {

namespace fs = std::filesystem;
using json = nlohmann::json;

const char* status_name(CaseStatus s) {
  switch (s) {
    case CaseStatus::Pass: return "PASS";
    case CaseStatus::Fail: return "FAIL";
    case CaseStatus::Unsupported: return "UNSUPPORTED";
  }
  return "?";
}

std::string format_case_line(const CaseResult& r) {
  char err[64];
  std::snprintf(err, sizeof err, "%.3g", r.max_abs_err);
  std::string line = cat(status_name(r.status), " ", r.fixture, " ", r.case_name, " max_abs_err=", err);
  if (!r.detail.empty()) line += " -- " + r.detail;
  return line;
}

namespace {

std::string index_str(const Shape& shape, int64_t flat) {
  Shape idx(shape.size());
  for (int i = int(shape.size()) - 1; i >= 0; --i) {
    int64_t d = shape[size_t(i)] ? shape[size_t(i)] : 1;
    idx[size_t(i)] = flat % d;
    flat /= d;
  }
  return shape_str(idx);
}

struct Comparison {
  bool ok = true;
  double max_abs = 0.0;
  std::string detail;
};

// Compares one output against its reference, honouring atol/rtol, mean_atol and valid_mask.
Comparison compare_output(const std::string& name, const json& spec, const Tensor& got_in, const Tensor& want_in,
                          const Tensor* valid_mask, double atol, double rtol) {
  Comparison c;
  if (got_in.shape() != want_in.shape()) {
    c.ok = false;
    c.detail = cat(name, ": shape ", shape_str(got_in.shape()), " != reference ", shape_str(want_in.shape()));
    return c;
  }
  const int64_t n = want_in.numel();
  // Mask: leading [B,S] (or flattened B*S) dims of the output.
  int64_t inner = 1;
  std::vector<int64_t> mask;
  if (valid_mask) {
    Tensor m = valid_mask->to_i64();
    const int64_t ms = m.numel();
    if (ms == 0 || n % ms != 0) {
      c.ok = false;
      c.detail = cat(name, ": valid_mask of shape ", shape_str(m.shape()), " does not divide output shape ",
                     shape_str(want_in.shape()));
      return c;
    }
    inner = n / ms;
    mask.assign(m.i64(), m.i64() + ms);
  }
  auto valid = [&](int64_t i) { return mask.empty() || mask[size_t(i / inner)] != 0; };
  const bool integer = !dtype_is_float(want_in.dtype());
  if (integer) {
    Tensor g = got_in.to_i64(), w = want_in.to_i64();
    for (int64_t i = 0; i < n; ++i) {
      if (!valid(i)) continue;
      double d = std::fabs(double(g.i64()[i] - w.i64()[i]));
      c.max_abs = std::max(c.max_abs, d);
      if (d != 0 && c.ok) {
        c.ok = false;
        c.detail = cat(name, ": first differs at ", index_str(want_in.shape(), i), ": got ", g.i64()[i], ", reference ",
                       w.i64()[i]);
      }
    }
    return c;
  }
  Tensor g = got_in.to_f32(), w = want_in.to_f32();
  double sum = 0;
  int64_t counted = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (!valid(i)) continue;
    double a = g.f32()[i], b = w.f32()[i];
    double d = std::fabs(a - b);
    bool bad;
    if (std::isnan(b) || std::isinf(b)) {
      bad = !(a == b || (std::isnan(a) && std::isnan(b)));
      d = bad ? INFINITY : 0.0;
    } else {
      bad = !(d <= atol + rtol * std::fabs(b));  // NaN in `a` fails here too
      if (std::isnan(d)) d = INFINITY;
    }
    c.max_abs = std::max(c.max_abs, d);
    sum += std::isfinite(d) ? d : 0.0;
    ++counted;
    if (bad && c.ok) {
      c.ok = false;
      c.detail = cat(name, ": first differs at ", index_str(want_in.shape(), i), ": got ", a, ", reference ", b,
                     " (atol ", atol, ", rtol ", rtol, ")");
    }
  }
  if (c.ok && spec.contains("mean_atol") && counted > 0) {
    double mean = sum / double(counted), lim = spec["mean_atol"].get<double>();
    if (mean > lim) {
      c.ok = false;
      c.detail = cat(name, ": mean |diff| ", mean, " exceeds mean_atol ", lim);
    }
  }
  return c;
}

// Keyword arguments of the reference call text ("f(x, language='en', task=...)"):
// name -> the Python literal as written. Splits on top-level commas only.
std::map<std::string, std::string> call_kwargs(const std::string& call) {
  std::map<std::string, std::string> r;
  const size_t open = call.find('('), close = call.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close <= open) return r;
  auto trim = [](std::string s) {
    const size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  };
  int depth = 0;
  char quote = 0;
  std::string part;
  auto flush = [&] {
    const size_t eq = part.find('=');
    if (eq != std::string::npos) r[trim(part.substr(0, eq))] = trim(part.substr(eq + 1));
    part.clear();
  };
  for (size_t i = open + 1; i < close; ++i) {
    const char ch = call[i];
    if (quote) quote = ch == quote ? 0 : quote;
    else if (ch == '\'' || ch == '"') quote = ch;
    else if (ch == '(' || ch == '[') ++depth;
    else if (ch == ')' || ch == ']') --depth;
    else if (ch == ',' && depth == 0) {
      flush();
      continue;
    }
    part += ch;
  }
  flush();
  return r;
}

// The quoted strings of a Python literal: 'en' -> {en}; ['en', 'fr'] -> {en, fr}; None -> {}.
std::vector<std::string> python_strings(const std::string& lit) {
  std::vector<std::string> r;
  for (size_t i = 0; i < lit.size(); ++i)
    if (lit[i] == '\'' || lit[i] == '"') {
      const size_t e = lit.find(lit[i], i + 1);
      if (e == std::string::npos) break;
      r.push_back(lit.substr(i + 1, e - i - 1));
      i = e;
    }
  return r;
}

GenerateOptions generate_options(const json& kase) {
  GenerateOptions o;
  // Whisper-style generate(language=..., task=...) arguments of the reference call.
  const auto kw = call_kwargs(kase.value("call", std::string()));
  if (auto it = kw.find("language"); it != kw.end()) o.language = python_strings(it->second);
  if (auto it = kw.find("task"); it != kw.end()) {
    auto t = python_strings(it->second);
    if (!t.empty()) o.task = t[0];
  }
  if (kase.contains("generation")) {
    const json& g = kase["generation"];
    o.max_new_tokens = g.value("max_new_tokens", int64_t(20));
    o.eos_stops = g.value("eos_stops", true);
  }
  return o;
}

}  // namespace

std::vector<CaseResult> verify_model_fixture(const std::string& dir, const std::string& rel, const VerifyOptions& opts) {
  std::vector<CaseResult> out;
  fs::path refp = fs::path(dir) / "reference.json";
  json ref;
  try {
    std::ifstream in(refp);
    ref = json::parse(in);
  } catch (const std::exception& e) {
    out.push_back({CaseStatus::Fail, rel, "load", 0.0, cat(refp.string(), ": ", e.what())});
    return out;
  }
  const json cases = ref.value("cases", json::array());
  std::unique_ptr<Model> model;
  std::shared_ptr<SafetensorsFile> tensors;
  try {
    model = load_model(dir);
    tensors = SafetensorsFile::open((fs::path(dir) / "reference.safetensors").string());
  } catch (const std::exception& e) {
    return load_failure_results(rel, cases, e);
  }
  const json def_tol = ref.value("default_tolerance", json::object());
  for (const auto& kase : cases) {
    out.push_back(run_verify_case(rel, kase.value("name", "?"), [&](CaseResult& r) {
      TensorMap inputs;
      json case_inputs = kase.value("inputs", json::object());  // one object: begin/end must share it
      // A case listing no inputs runs on the forward case's (RAG's generate names them only in its call).
      if (case_inputs.empty())
        for (const auto& k : cases)
          if (k.value("name", "") == "forward") case_inputs = k.value("inputs", json::object());
      for (auto it = case_inputs.begin(); it != case_inputs.end(); ++it) {
        if (it.value().is_object() && it.value().contains("tensor"))
          inputs[it.key()] = tensors->tensor(it.value()["tensor"].get<std::string>());
      }
      TensorMap got;
      if (r.case_name == "forward") got = model->forward(inputs);
      else if (r.case_name == "generate") got = model->generate(inputs, generate_options(kase));
      else got = model->run_case(r.case_name, inputs, kase);
      const json outputs = kase.value("outputs", json::object());
      for (auto it = outputs.begin(); it != outputs.end(); ++it) {
        const std::string& name = it.key();
        const json& spec = it.value();
        auto g = got.find(name);
        if (g == got.end()) {
          r.status = CaseStatus::Fail;
          r.detail = cat(name, ": not produced by the engine");
          return;
        }
        Tensor want = tensors->tensor(spec["tensor"].get<std::string>());
        double atol = spec.value("atol", def_tol.value("atol", 1e-4));
        double rtol = spec.value("rtol", def_tol.value("rtol", 1e-4));
        Tensor mask;
        if (spec.contains("valid_mask")) mask = tensors->tensor(spec["valid_mask"].get<std::string>());
        Comparison c = compare_output(name, spec, g->second, want, mask.defined() ? &mask : nullptr, atol, rtol);
        r.max_abs_err = std::max(r.max_abs_err, c.max_abs);
        if (!c.ok) {
          r.status = CaseStatus::Fail;
          r.detail = c.detail;
          return;
        }
      }
    }));
  }
  return out;
}

VerifySummary verify_root(const std::string& root, const VerifyOptions& opts, std::ostream& os) {
  VerifySummary s;
  IA_CHECK(fs::is_directory(root), root, ": not a directory");
  std::vector<std::pair<std::string, const FixtureKind*>> dirs;
  auto consider = [&](const fs::path& p) {
    for (const auto& k : fixture_kinds())
      if (k.matches(p.string())) {
        dirs.emplace_back(p.string(), &k);
        return;
      }
  };
  consider(fs::path(root));
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::follow_directory_symlink);
       it != fs::recursive_directory_iterator(); ++it)
    if (it->is_directory()) consider(it->path());
  std::sort(dirs.begin(), dirs.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [dir, kind] : dirs) {
    std::string rel = fs::relative(dir, root).generic_string();
    if (rel.empty()) rel = ".";
    if (!opts.filter.empty() && rel.find(opts.filter) == std::string::npos) continue;
    for (auto& r : kind->run(dir, rel, opts)) {
      os << format_case_line(r) << std::endl;
      if (r.status == CaseStatus::Pass) ++s.pass;
      else if (r.status == CaseStatus::Fail) ++s.fail;
      else ++s.unsupported;
      s.results.push_back(std::move(r));
    }
  }
  os << "SUMMARY pass=" << s.pass << " fail=" << s.fail << " unsupported=" << s.unsupported
     << " total=" << s.results.size() << std::endl;
  return s;
}

}  // namespace ia
