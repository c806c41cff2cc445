// Post-processors of tokenizer.json ("post_processor"): TemplateProcessing,
// BertProcessing, RobertaProcessing, ByteLevel (offset trimming), Sequence.
#pragma once
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <vector>

#include "tokenizers/encoding.h"

namespace ia::tok {

struct JPath;

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // Number of special tokens added for a single sequence / a pair.
  virtual size_t added_tokens(bool is_pair) const = 0;
  virtual std::vector<Encoding> process_encodings(std::vector<Encoding> encs, bool add_special_tokens) const = 0;
  // Sets sequence / type ids, runs process_encodings and merges the result.
  Encoding process(Encoding enc, Encoding* pair, bool add_special_tokens) const;
};

std::unique_ptr<PostProcessor> post_processor_from_json(const nlohmann::json& j, const JPath& where);
// Without a post-processor: the pair is appended (sequence ids set).
Encoding default_post_process(Encoding enc, Encoding* pair);
// ByteLevel offset trimming of leading/trailing spaces (Ġ) in token strings.
void byte_level_process_offsets(Encoding& enc, bool add_prefix_space);

}  // namespace ia::tok
