#include "retrieval/flat_index.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "backends/cpu/kernels.h"
#include "core/error.h"

namespace ia {

FlatInnerProductIndex::FlatInnerProductIndex(const float* embeddings, int64_t rows, int64_t dim)
    : data_(embeddings, embeddings + rows * dim), rows_(rows), dim_(dim) {
  IA_CHECK(rows > 0 && dim > 0, "retrieval index: needs at least one document embedding of positive dimension");
}

std::vector<std::vector<SearchHit>> FlatInnerProductIndex::search(const float* queries, int64_t Q, int64_t query_dim,
                                                                  int64_t k) const {
  IA_CHECK(query_dim == dim_, "retrieval index: the query embedding has ", query_dim,
           " dimensions but the document embeddings have ", dim_);
  IA_CHECK(k > 0, "retrieval index: the number of documents to retrieve must be positive, got ", k);
  const int64_t kk = std::min(k, rows_);
  std::vector<float> scores(static_cast<size_t>(Q * rows_));
  cpu::gemm_nt(Q, rows_, dim_, queries, dim_, data_.data(), dim_, scores.data(), rows_);
  std::vector<std::vector<SearchHit>> out(static_cast<size_t>(Q));
  std::vector<int64_t> order(static_cast<size_t>(rows_));
  for (int64_t q = 0; q < Q; ++q) {
    const float* s = scores.data() + q * rows_;
    std::iota(order.begin(), order.end(), 0);
    // NaN scores rank last (a strict weak order even then).
    auto key = [s](int64_t i) { return std::isnan(s[i]) ? -std::numeric_limits<float>::infinity() : s[i]; };
    std::partial_sort(order.begin(), order.begin() + kk, order.end(), [&key](int64_t a, int64_t b) {
      const float ka = key(a), kb = key(b);
      return ka > kb || (ka == kb && a < b);
    });
    for (int64_t i = 0; i < kk; ++i) out[size_t(q)].push_back({order[size_t(i)], s[order[size_t(i)]]});
  }
  return out;
}

}  // namespace ia
