// The mask-generation pipeline (SAM): an image and point / box prompts in,
// binary masks (PNG files and/or RLE) with their predicted IoU scores out, the
// way SamProcessor + SamModel + post_process_masks produce them.
#pragma once
#include <array>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "templates/model.h"

namespace ia {

struct MaskGenerationRequest {
  std::string image;                          // file path, or "-" for stdin
  std::vector<std::array<double, 2>> points;  // (x, y) in original image pixels
  std::vector<int64_t> labels;                // per point: 1 foreground, 0 background (default 1)
  std::optional<std::array<double, 4>> box;   // x0, y0, x1, y1 in original pixels
  bool multimask = true;                      // 3 candidate masks (else the single best-token mask)
  std::string out_dir;                        // write mask_<i>.png here when non-empty
  bool rle = true;                            // include RLE in the JSON
  float mask_threshold = 0.0f;
};

class MaskGenerationPipeline {
 public:
  explicit MaskGenerationPipeline(const std::string& model_dir);
  ~MaskGenerationPipeline();
  // {"success": true, "segmentation_output": {"masks": [...], "scores": [...], ...}, ...};
  // never throws: failures become {"success": false, "error": ...}.
  nlohmann::json run(const MaskGenerationRequest& req);

 private:
  nlohmann::json run_or_throw(const MaskGenerationRequest& req);
  std::string dir_;
  std::unique_ptr<Model> model_;
};

// "x,y;x,y" -> points; "1,0" -> labels; "x0,y0,x1,y1" -> box. Errors name the option.
std::vector<std::array<double, 2>> parse_points(const std::string& s);
std::vector<int64_t> parse_labels(const std::string& s);
std::array<double, 4> parse_box(const std::string& s);

}  // namespace ia
