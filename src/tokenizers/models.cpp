#include "tokenizers/models.h"

#include "tokenizers/json_util.h"

namespace ia::tok {

std::unique_ptr<Model> model_from_json(const json& j, const JPath& p) {
  if (!j.is_object()) json_fail(p, "expected a model object");
  std::string type;
  if (jhas(j, "type")) {
    type = jstr(j, "type", p);
  } else {
    // Old files have no "type": recognise the model by its fields, in the order
    // the Rust library tries them (BPE, WordPiece, WordLevel, Unigram).
    if (j.contains("merges")) type = "BPE";
    else if (j.contains("vocab") && j["vocab"].is_array()) type = "Unigram";
    else if (j.contains("max_input_chars_per_word") || j.contains("continuing_subword_prefix")) type = "WordPiece";
    else type = "WordLevel";
  }
  if (type == "BPE") return bpe_from_json(j, p);
  if (type == "WordPiece") return wordpiece_from_json(j, p);
  if (type == "Unigram") return unigram_from_json(j, p);
  if (type == "WordLevel") return wordlevel_from_json(j, p);
  json_fail(p / "type", "unknown model type '" + type + "'");
}

}  // namespace ia::tok
