// Exact maximum-inner-product search over document embeddings (what RAG's
// "exact" faiss IndexFlatIP does): scores = queries . embeddings^T with one GEMM,
// then the k best per query, highest first; ties keep the lower document index.
#pragma once
#include <cstdint>
#include <vector>

namespace ia {

struct SearchHit {
  int64_t index = 0;  // row in the index
  float score = 0.f;  // inner product
};

class FlatInnerProductIndex {
 public:
  FlatInnerProductIndex() = default;
  // embeddings [rows, dim], copied.
  FlatInnerProductIndex(const float* embeddings, int64_t rows, int64_t dim);

  int64_t size() const { return rows_; }
  int64_t dim() const { return dim_; }
  const float* row(int64_t i) const { return data_.data() + i * dim_; }

  // queries [Q, dim] -> Q lists of min(k, size()) hits. Errors on a dimension mismatch.
  std::vector<std::vector<SearchHit>> search(const float* queries, int64_t Q, int64_t query_dim, int64_t k) const;

 private:
  std::vector<float> data_;
  int64_t rows_ = 0, dim_ = 0;
};

}  // namespace ia
