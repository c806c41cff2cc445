// Whisper ASR output decoding (see whisper_asr_decode.h).
#include "pipelines/whisper_asr_decode.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "core/error.h"
#include "templates/speech/whisper_languages.h"

namespace ia {

double round2(double x) {
  // printf rounds the exact binary value half-to-even, as Python's round() does.
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", x);
  return std::strtod(buf, nullptr);
}

std::vector<int64_t> whisper_merge_overlapping(const std::vector<std::vector<int64_t>>& sequences) {
  if (sequences.empty()) return {};
  std::vector<int64_t> left = sequences[0], total;
  for (size_t s = 1; s < sequences.size(); ++s) {
    const std::vector<int64_t>& right = sequences[s];
    const int64_t L = int64_t(left.size()), R = int64_t(right.size());
    double best = 0.0;
    int64_t bls = L, ble = L, brs = 0, bre = 0;
    // Slide `right` over `left`; the score favours many matches and, by a small
    // epsilon, longer overlaps.
    for (int64_t i = 1; i < L + R; ++i) {
      const double eps = double(i) / 10000.0;
      const int64_t ls = std::max<int64_t>(0, L - i), le = std::min(L, L + R - i);
      const int64_t rs = std::max<int64_t>(0, i - L), re = std::min(R, i);
      IA_CHECK(le - ls == re - rs, "whisper: internal error in the overlap merge");
      int64_t matches = 0;
      for (int64_t k = 0; k < le - ls; ++k) matches += left[size_t(ls + k)] == right[size_t(rs + k)];
      const double matching = double(matches) / double(i) + eps;
      if (matches > 1 && matching > best) {
        best = matching;
        bls = ls, ble = le, brs = rs, bre = re;
      }
    }
    // Inside the overlap trust the left window for its first half, the right one after.
    const int64_t left_mid = (ble + bls) / 2, right_mid = (bre + brs) / 2;
    total.insert(total.end(), left.begin(), left.begin() + left_mid);
    left.assign(right.begin() + right_mid, right.end());
  }
  total.insert(total.end(), left.begin(), left.end());
  return total;
}

namespace {

std::vector<int64_t> strip_prompt(const std::vector<int64_t>& ids, const WhisperAsrVocab& v) {
  if (ids.empty() || !v.prompt_id || ids[0] != *v.prompt_id) return ids;
  if (v.decoder_start) {
    auto it = std::find(ids.begin(), ids.end(), *v.decoder_start);
    if (it != ids.end()) return std::vector<int64_t>(it, ids.end());
  }
  return {};
}

}  // namespace

WhisperAsrResult whisper_decode_asr(const WhisperAsrVocab& v, const std::vector<WhisperWindowTokens>& windows,
                                    bool return_timestamps, bool return_language, double time_precision) {
  IA_CHECK(time_precision > 0, "whisper: time precision must be positive");
  IA_CHECK(bool(v.decode), "whisper: no decoder for the ASR tokens");
  std::optional<std::string> last_language;
  auto new_chunk = [&] {
    WhisperAsrChunk c;
    c.language = last_language;
    return c;
  };
  std::vector<WhisperAsrChunk> chunks;
  WhisperAsrChunk chunk = new_chunk();
  double time_offset = 0.0;
  const int64_t tb = v.timestamp_begin;
  std::vector<std::vector<int64_t>> previous;
  bool skip = false;
  // Ends the open chunk: its text is the merge of every window's tokens since the last one.
  auto close_chunk = [&](std::vector<int64_t>& current) {
    previous.push_back(current);
    chunk.text = v.decode(whisper_merge_overlapping(previous));
    chunks.push_back(chunk);
    previous.clear();
    current.clear();
    chunk = new_chunk();
  };

  for (const WhisperWindowTokens& w : windows) {
    const std::vector<int64_t> ids = strip_prompt(w.tokens, v);
    std::optional<int64_t> last_timestamp;  // timestamps from here on lie in the right stride
    double first_timestamp = double(tb);    // timestamps before this lie in the left stride
    if (w.has_stride) {
      time_offset -= w.stride_left;
      const double right_stride_start = w.chunk_len - w.stride_right;
      if (w.stride_left != 0) first_timestamp = w.stride_left / time_precision + double(tb);
      if (w.stride_right != 0)
        for (auto it = ids.rbegin(); it != ids.rend(); ++it)
          if (*it >= tb) {
            // Several may fall in the right stride; the last one is always skipped.
            if (last_timestamp && double(*it - tb) * time_precision < right_stride_start) break;
            last_timestamp = *it;
          }
    }
    std::vector<int64_t> current;
    for (const int64_t token : ids) {
      if (v.special_ids.count(token)) {
        std::string text = v.decode({token});
        text = text.size() >= 4 ? text.substr(2, text.size() - 4) : std::string();
        if (auto language = whisper_language_name(text)) {
          if (last_language && *language != *last_language && !return_timestamps) {
            close_chunk(current);
          }
          chunk.language = language;
          last_language = language;
        }
      } else if (token >= tb) {
        const double time = round2(double(token - tb) * time_precision + time_offset);
        if (last_timestamp && token >= *last_timestamp) {
          // In the right stride: resolved by the next window. Timestamps come in
          // pairs, so the next one is skipped too.
          skip = true;
        } else if (skip || (!previous.empty() && double(token) < first_timestamp)) {
          skip = false;
        } else if (!chunk.start) {
          chunk.start = time;
        } else if (time != *chunk.start) {  // an equal end is a duplicated start: ignore it
          chunk.end = time;
          close_chunk(current);
        }
      } else {
        current.push_back(token);
      }
    }
    if (w.has_stride) time_offset += w.chunk_len - w.stride_right;
    if (!current.empty()) {
      previous.push_back(current);
    } else if (std::none_of(previous.begin(), previous.end(), [](const auto& p) { return !p.empty(); })) {
      chunk = new_chunk();
      previous.clear();
    }
  }
  if (!previous.empty()) {
    chunk.text = v.decode(whisper_merge_overlapping(previous));
    chunks.push_back(chunk);
  }
  WhisperAsrResult r;
  for (const auto& c : chunks) r.text += c.text;
  if (return_timestamps || return_language) r.chunks = std::move(chunks);
  return r;
}

}  // namespace ia
