// The image processors of transformers 4.44.2, driven by preprocessor_config.json:
// ViTImageProcessor, CLIPImageProcessor (also LLaVA's), BlipImageProcessor and
// SamImageProcessor (+ the coordinate rescaling and mask post-processing that
// SamProcessor / SamImageProcessor do). Every step follows the Python code:
// uint8 resize through Pillow's resampler, center crop, rescale (float64 product
// cast to float32), normalise in float32, SAM's bottom/right zero padding.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "preprocess/image.h"
#include "preprocess/pil_resize.h"

namespace ia {

class ImageProcessor {
 public:
  enum class Kind { ViT, CLIP, BLIP, SAM };

  static ImageProcessor from_dir(const std::string& model_dir);       // <dir>/preprocessor_config.json
  static ImageProcessor from_json_file(const std::string& path);      // errors name the file and field
  static ImageProcessor from_json_text(const std::string& text, const std::string& label);

  // pixel_values [1, 3, H, W] F32.
  Tensor preprocess(const Image& img) const;
  // [N, 3, H, W]; every image must come out the same size (always true for ViT,
  // BLIP, CLIP with center crop, SAM with padding).
  Tensor preprocess_batch(const std::vector<Image>& imgs) const;

  // Every stage of one image, for verification and for pipelines that need sizes.
  struct Stages {
    Image resized;                 // uint8 HWC after resize (the input itself when do_resize is off)
    Image cropped;                 // after center crop (CLIP); empty otherwise
    Tensor pixel_values;           // [1, 3, H, W]
    int64_t original_h = 0, original_w = 0;   // SAM original_sizes
    int64_t reshaped_h = 0, reshaped_w = 0;   // SAM reshaped_input_sizes (size after resize)
  };
  Stages run(const Image& img) const;

  // SamImageProcessor._get_preprocess_shape: (h, w) after the longest-edge resize.
  static std::array<int64_t, 2> sam_preprocess_shape(int64_t h, int64_t w, int64_t longest_edge);
  // SamProcessor._normalize_coordinates: (x, y) pairs (points, or boxes as
  // x0,y0,x1,y1) given in original pixels, rescaled to the resized frame.
  std::vector<double> sam_rescale_coordinates(const std::vector<double>& xy, int64_t original_h,
                                              int64_t original_w) const;
  // SamImageProcessor.post_process_masks for one image: masks [..., h, w] (any
  // leading dims) -> bilinear to pad_size, crop to reshaped size, bilinear to the
  // original size; binarize -> 0/1 (F32) with mask_threshold.
  Tensor sam_post_process_masks(const Tensor& masks, int64_t original_h, int64_t original_w, int64_t reshaped_h,
                                int64_t reshaped_w, bool binarize, float mask_threshold = 0.0f) const;

  Kind kind() const { return kind_; }
  const std::string& class_name() const { return class_name_; }
  // Output spatial size when fixed (0 when it depends on the input).
  int64_t output_height() const;
  int64_t output_width() const;

 private:
  Kind kind_ = Kind::ViT;
  std::string class_name_, label_;
  bool do_resize_ = true, do_center_crop_ = false, do_rescale_ = true, do_normalize_ = true, do_pad_ = false;
  Resample resample_ = Resample::Bilinear;
  // size: either (height, width), shortest_edge (CLIP) or longest_edge (SAM).
  int64_t size_h_ = 0, size_w_ = 0, shortest_edge_ = 0, longest_edge_ = 0;
  int64_t crop_h_ = 0, crop_w_ = 0, pad_h_ = 0, pad_w_ = 0;
  double rescale_factor_ = 1.0 / 255.0;
  std::array<float, 3> mean_{}, std_{};
};

}  // namespace ia
