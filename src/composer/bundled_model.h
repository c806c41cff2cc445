// A bundled model: one reference fixture (tests/fixtures/models/<type>/<Class>/) made
// runnable by a pipeline. Fixtures hold a checkpoint and transformers' outputs on
// known token ids but no tokenizer, so the copy gets a word-level tokenizer.json
// whose token i is "w<i>" (one designated id is "[MASK]"): the text "w28 w49"
// encodes to exactly the reference ids [28, 49], and pipeline outputs can be
// compared with the reference. Used by `generate` (the generated program's model)
// and `matrix` (the compositions it executes).
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ia {

struct BundledModel {
  std::string fixture_dir;
  std::string model_type, architecture;
  int64_t vocab = 0;
  int64_t mask_id = -1;                 // id spelled "[MASK]" (fill-mask input)
  std::vector<int64_t> forward_ids;     // row 0 of the first forward case (unpadded)
  std::vector<int64_t> prompt_ids;      // row 0 of the generate case (unpadded); empty when none
  std::vector<int64_t> expected_new_ids;  // transformers' greedy continuation, cut after the first EOS
  int64_t max_new_tokens = -1;
  std::map<int64_t, std::string> special_words;  // ids spelled as special tokens (LLaVA's "<image>")
  std::vector<int64_t> bos_eos;                  // [bos, eos] the tokenizer adds around a text (CLIP); empty: none
};

// Fixture directories for `model_type` under `models_root` (sorted; those whose
// config.json has that model_type and which hold reference.json).
std::vector<std::string> bundled_fixture_dirs(const std::string& models_root, const std::string& model_type);
// Reads a fixture. Throws ia::Error naming the file and field when it is malformed.
BundledModel read_bundled_model(const std::string& fixture_dir);
// Copies config.json, generation_config.json and the weights to `dst` and writes the tokenizer.
void write_runnable_copy(const BundledModel& m, const std::string& dst);
// Image / audio models: preprocessor_config.json (and CTC vocab) sized for the
// checkpoint, and a built-in input probe.png / probe.wav (bundled_media.cpp).
void write_media_files(const BundledModel& m, const std::string& dst);
// Writes the built-in input of an image / audio model type (probe.png / probe.wav)
// into `dst_dir`; false (nothing written) for text models.
bool write_probe_input(const std::string& model_type, const std::string& dst_dir);
// The built-in image / WAV of a runnable copy ("" for text models).
std::string probe_input_file(const std::string& runnable_dir);
// The dispatcher request (pipelines/task_dispatch.h) a task is exercised with on a
// runnable copy: probe text, or the built-in image / WAV with the task's extra
// inputs (prompt, candidate labels, a SAM point).
nlohmann::json probe_request(const BundledModel& m, const std::string& runnable_dir, const std::string& task);
// The text spelling `ids` with the copy's tokenizer.
std::string spell_ids(const BundledModel& m, const std::vector<int64_t>& ids);
// The input text a task is exercised with: the generate prompt for text generation,
// the forward row otherwise (fill-mask: with its third token masked).
std::string probe_text(const BundledModel& m, const std::string& task);

}  // namespace ia
