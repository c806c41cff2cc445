// Decoders of tokenizer.json ("decoder"): ByteLevel, WordPiece, Metaspace,
// BPEDecoder, Replace, ByteFallback, Fuse, Strip, CTC, Sequence.
#pragma once
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace ia::tok {

struct JPath;

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual std::vector<std::string> decode_chain(std::vector<std::string> tokens) const = 0;
  std::string decode(std::vector<std::string> tokens) const;
};

std::unique_ptr<Decoder> decoder_from_json(const nlohmann::json& j, const JPath& where);
// The WordPiece clean-up of spaces before punctuation / contractions.
std::string wordpiece_cleanup(const std::string& s);

}  // namespace ia::tok
