// Encoding: the result of tokenizing one input (or pair), with everything the
// Hugging Face `Encoding` carries, plus the merge / truncate / pad operations.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ia::tok {

using Offsets = std::pair<size_t, size_t>;

// One model token: id, string and byte offsets in the (normalized) pre-token.
struct Token {
  uint32_t id;
  std::string value;
  Offsets offsets;
};

enum class TruncationDirection { Left, Right };
enum class TruncationStrategy { LongestFirst, OnlyFirst, OnlySecond };
enum class PaddingDirection { Left, Right };

struct Encoding {
  std::vector<uint32_t> ids;
  std::vector<uint32_t> type_ids;
  std::vector<std::string> tokens;
  std::vector<std::optional<uint32_t>> word_ids;
  std::vector<Offsets> offsets;  // code-point offsets into the input text
  std::vector<uint32_t> special_tokens_mask;
  std::vector<uint32_t> attention_mask;
  std::vector<Encoding> overflowing;
  std::map<size_t, std::pair<size_t, size_t>> sequence_ranges;

  size_t size() const { return ids.size(); }
  void push(uint32_t id, std::string token, Offsets off, std::optional<uint32_t> word, uint32_t type_id,
            uint32_t special = 0);
  void set_type_ids(uint32_t type_id) { type_ids.assign(ids.size(), type_id); }
  void set_sequence_id(size_t seq) { sequence_ranges[seq] = {0, ids.size()}; }
  // Appends `pair` (and the cross product of both overflowing lists).
  void merge_with(const Encoding& pair, bool growing_offsets);
  static Encoding merge(std::vector<Encoding> encs, bool growing_offsets);
  // Keeps max_len tokens; the rest goes to `overflowing` in windows with `stride` overlap.
  void truncate(size_t max_len, size_t stride, TruncationDirection dir);
  void pad(size_t target, uint32_t pad_id, uint32_t pad_type_id, const std::string& pad_token, PaddingDirection dir);

 private:
  Encoding range(size_t start, size_t stop) const;
};

struct TruncationParams {
  size_t max_length = 512;
  size_t stride = 0;
  TruncationStrategy strategy = TruncationStrategy::LongestFirst;
  TruncationDirection direction = TruncationDirection::Right;
};

struct PaddingParams {
  std::optional<size_t> fixed_length;  // nullopt: pad to the longest in the batch
  std::optional<size_t> pad_to_multiple_of;
  PaddingDirection direction = PaddingDirection::Right;
  uint32_t pad_id = 0;
  uint32_t pad_type_id = 0;
  std::string pad_token = "[PAD]";
};

// Truncates a sequence (and its pair) to params.max_length; throws ia::Error on
// impossible requests (stride too large, OnlySecond without a pair...).
void truncate_encodings(Encoding& enc, Encoding* pair, const TruncationParams& params);
void pad_encodings(std::vector<Encoding>& encs, const PaddingParams& params);

}  // namespace ia::tok
