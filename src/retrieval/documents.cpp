#include "retrieval/documents.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"

namespace ia {

namespace {

using json = nlohmann::json;

void add_document(DocumentSet& set, const json& j, const std::string& where) {
  IA_CHECK(j.is_object(), where, ": expected a JSON object with \"text\" (and optional \"title\", \"id\", \"embedding\")");
  IA_CHECK(j.contains("text") && j["text"].is_string(), where, ": missing string field 'text'");
  Document d;
  d.text = j["text"].get<std::string>();
  if (j.contains("title") && !j["title"].is_null()) {
    IA_CHECK(j["title"].is_string(), where, ": field 'title' must be a string");
    d.title = j["title"].get<std::string>();
  }
  if (j.contains("id") && !j["id"].is_null()) {
    IA_CHECK(j["id"].is_string() || j["id"].is_number_integer(), where, ": field 'id' must be a string or an integer");
    d.id = j["id"].is_string() ? j["id"].get<std::string>() : std::to_string(j["id"].get<int64_t>());
  } else {
    d.id = std::to_string(set.docs.size());
  }
  const bool has_emb = j.contains("embedding") && !j["embedding"].is_null();
  IA_CHECK(set.docs.empty() || has_emb == (set.dim > 0), where,
           has_emb ? ": has an 'embedding' but earlier documents do not (give all or none)"
                   : ": has no 'embedding' but earlier documents do (give all or none)");
  if (has_emb) {
    const json& e = j["embedding"];
    IA_CHECK(e.is_array() && !e.empty(), where, ": field 'embedding' must be a non-empty list of numbers");
    if (set.docs.empty()) set.dim = int64_t(e.size());
    IA_CHECK(int64_t(e.size()) == set.dim, where, ": 'embedding' has ", e.size(), " values, earlier documents have ",
             set.dim);
    for (const auto& v : e) {
      IA_CHECK(v.is_number(), where, ": 'embedding' holds a non-number");
      set.embeddings.push_back(v.get<float>());
    }
  }
  set.docs.push_back(std::move(d));
}

}  // namespace

DocumentSet load_documents(const std::string& path) {
  namespace fs = std::filesystem;
  IA_CHECK(fs::is_regular_file(path), path, ": documents file not found");
  std::ifstream in(path, std::ios::binary);
  IA_CHECK(in.good(), path, ": cannot open the documents file");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  DocumentSet set;
  set.source = path;
  size_t first = text.find_first_not_of(" \t\r\n");
  IA_CHECK(first != std::string::npos, path, ": the documents file is empty");
  const bool jsonl = path.size() >= 6 && path.compare(path.size() - 6, 6, ".jsonl") == 0;
  if (!jsonl && (text[first] == '[' || text[first] == '{')) {
    json j;
    bool parsed = true;
    try {
      j = json::parse(text);
    } catch (const json::exception& e) {
      // A .json file holding one object per line is JSONL: fall through to the line reader.
      parsed = false;
      if (text[first] == '[') fail(path, ": malformed JSON: ", e.what());
    }
    if (parsed) {
      if (j.is_object() && j.contains("documents")) j = j["documents"];
      else if (j.is_object()) j = json::array({j});
      IA_CHECK(j.is_array(), path, ": expected a list of documents or {\"documents\": [...]}");
      for (size_t i = 0; i < j.size(); ++i) add_document(set, j[i], cat(path, ": document ", i));
      IA_CHECK(!set.docs.empty(), path, ": no documents");
      return set;
    }
  }
  std::istringstream lines(text);
  std::string line;
  for (int64_t no = 1; std::getline(lines, line); ++no) {
    if (line.find_first_not_of(" \t\r\n") == std::string::npos) continue;
    json j;
    try {
      j = json::parse(line);
    } catch (const json::exception& e) {
      fail(path, ": line ", no, ": malformed JSON: ", e.what());
    }
    add_document(set, j, cat(path, ": line ", no));
  }
  IA_CHECK(!set.docs.empty(), path, ": no documents");
  return set;
}

}  // namespace ia
