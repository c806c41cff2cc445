// Image handling of the Stable Diffusion pipelines, as diffusers' VaeImageProcessor
// does it: input images resized (Pillow Lanczos) to the requested size and scaled
// to [-1, 1]; masks converted to grayscale, scaled to [0, 1] and binarised at 0.5;
// the mask downsampled to latent size (torch nearest interpolation); decoded
// images denormalised to [0, 1] and rounded to 8-bit; PNG output.
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"
#include "preprocess/image.h"

namespace ia::sd_image {

// VaeImageProcessor.get_default_height_width: the given size, else the image's,
// rounded down to a multiple of `factor`.
void default_size(const Image& img, int64_t factor, int64_t* height, int64_t* width);

// preprocess(image, height, width): [1, 3, H, W] in [-1, 1].
Tensor preprocess_image(const Image& img, int64_t height, int64_t width);
// mask_processor.preprocess(mask, height, width): [1, 1, H, W] of 0 / 1.
Tensor preprocess_mask(const Image& mask, int64_t height, int64_t width);
// F.interpolate(mask, size=(h, w)) with the default 'nearest' mode.
Tensor nearest_resize(const Tensor& mask, int64_t h, int64_t w);

// (x / 2 + 0.5).clamp(0, 1), NCHW -> NHWC (output_type="np").
Tensor postprocess(const Tensor& decoded);
// numpy_to_pil: (x * 255).round() as 8-bit RGB (first image of the batch).
Image to_image_u8(const Tensor& nhwc, int64_t index = 0);

// 8-bit RGB PNG, to memory or to a file.
std::vector<uint8_t> encode_png(const Image& img);
void write_png(const std::string& path, const Image& img);
std::string base64_encode(const std::vector<uint8_t>& data);

// An Image from an (H, W, 3) or (H, W) integer tensor (fixtures store PIL images so).
Image image_from_tensor(const Tensor& t, const std::string& what);

}  // namespace ia::sd_image
