// The dispatcher's adapter for the rag pipeline (rag_pipeline.h): questions from
// "inputs", documents from "docs" (a JSONL/JSON file) embedded by "context_encoder"
// (a DPR context encoder directory) unless the file carries embeddings.
#include "core/error.h"
#include "pipelines/rag_pipeline.h"
#include "pipelines/task_bindings.h"
#include "pipelines/task_request.h"

namespace ia {

namespace {

class RagBound : public BoundPipeline {
 public:
  explicit RagBound(const std::string& dir) : dir_(dir) {}
  nlohmann::json run(const nlohmann::json& r, const TextStream&) override {
    RagRequest req;
    req.task = request::str(r, "task");
    req.questions = request::text_inputs(r);
    req.n_docs = request::integer(r, "n_docs", 0);
    req.max_new_tokens = request::integer(r, "max_new_tokens", -1);
    req.num_beams = request::integer(r, "num_beams", 0);
    IA_CHECK(request::has(r, "docs"), "rag: no documents: give \"docs\" (--docs FILE: JSONL/JSON with title and text)");
    return run_rag_pipeline(dir_, request::str(r, "docs"), request::str(r, "context_encoder"), req);
  }

 private:
  std::string dir_;
};

}  // namespace

std::unique_ptr<BoundPipeline> load_rag_binding(const std::string& dir) { return std::make_unique<RagBound>(dir); }

}  // namespace ia
