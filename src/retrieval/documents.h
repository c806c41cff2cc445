// A user's document collection for retrieval: JSONL (one object per line) or JSON
// (a list of objects, or {"documents": [...]}); each object has "text" (required),
// "title" (optional, default ""), "id" (optional, default its position) and an
// optional precomputed "embedding" (list of numbers; all or none of the documents).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ia {

struct Document {
  std::string id, title, text;
};

struct DocumentSet {
  std::string source;            // the file they came from (for error messages)
  std::vector<Document> docs;
  std::vector<float> embeddings; // [docs.size(), dim] when the file carried them, else empty
  int64_t dim = 0;
};

// Errors name the file, the line (JSONL) or entry index, and the field.
DocumentSet load_documents(const std::string& path);

}  // namespace ia
