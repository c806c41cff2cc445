// ImageProcessor: preprocessor_config.json -> the transformers 4.44.2 image
// processing steps (see image_processor.h).
#include "preprocess/image_processor.h"

#include <cmath>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "formats/hf_config.h"

namespace ia {

namespace {

using json = nlohmann::json;

// transformers' get_size_dict: an int becomes {height, width} (square) or
// {shortest_edge}; a [h, w] list becomes {height, width}; dicts must use one of
// the accepted key sets.
struct SizeDict {
  int64_t height = 0, width = 0, shortest_edge = 0, longest_edge = 0;
  bool has_hw = false, has_shortest = false, has_longest = false;
};

int64_t positive_int(const json& v, const std::string& label, const std::string& field) {
  IA_CHECK(v.is_number_integer() || (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()), label,
           ": field '", field, "' must be an integer, got ", v.dump());
  const int64_t x = v.is_number_integer() ? v.get<int64_t>() : int64_t(v.get<double>());
  IA_CHECK(x > 0 && x <= (1 << 20), label, ": field '", field, "' must be a positive size, got ", x);
  return x;
}

SizeDict size_dict(const json& v, bool default_to_square, const std::string& label, const std::string& field) {
  SizeDict s;
  if (v.is_number()) {
    const int64_t x = positive_int(v, label, field);
    if (default_to_square) {
      s.height = s.width = x;
      s.has_hw = true;
    } else {
      s.shortest_edge = x;
      s.has_shortest = true;
    }
    return s;
  }
  if (v.is_array()) {
    IA_CHECK(v.size() == 2, label, ": field '", field, "' must be [height, width], got ", v.dump());
    s.height = positive_int(v[0], label, field + "[0]");
    s.width = positive_int(v[1], label, field + "[1]");
    s.has_hw = true;
    return s;
  }
  IA_CHECK(v.is_object(), label, ": field '", field, "' must be an integer, a [height, width] list or a dict, got ",
           v.dump());
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string& k = it.key();
    if (k == "height") s.height = positive_int(*it, label, field + ".height");
    else if (k == "width") s.width = positive_int(*it, label, field + ".width");
    else if (k == "shortest_edge") s.shortest_edge = positive_int(*it, label, field + ".shortest_edge"), s.has_shortest = true;
    else if (k == "longest_edge") s.longest_edge = positive_int(*it, label, field + ".longest_edge"), s.has_longest = true;
    else fail(label, ": field '", field, "' has unsupported key '", k, "'");
  }
  s.has_hw = v.contains("height") && v.contains("width");
  IA_CHECK(s.has_hw || (!v.contains("height") && !v.contains("width")), label, ": field '", field,
           "' needs both height and width, got ", v.dump());
  IA_CHECK(s.has_hw != (s.has_shortest || s.has_longest), label, ": field '", field,
           "' must have keys {height, width}, {shortest_edge}, {longest_edge} or {shortest_edge, longest_edge}, got ",
           v.dump());
  return s;
}

std::array<float, 3> channel_values(const HFConfig& c, const char* field, std::array<double, 3> def) {
  std::array<float, 3> out{float(def[0]), float(def[1]), float(def[2])};
  if (!c.has(field)) return out;
  const json& v = c.raw().at(field);
  if (v.is_number()) {
    out.fill(float(v.get<double>()));
    return out;
  }
  IA_CHECK(v.is_array() && v.size() == 3, c.label(), ": field '", field,
           "' must be a number or a list of 3 numbers (one per RGB channel), got ", v.dump());
  for (int i = 0; i < 3; ++i) {
    IA_CHECK(v[i].is_number(), c.label(), ": field '", field, "[", i, "]' must be a number");
    out[i] = float(v[i].get<double>());  // numpy casts the list to the float32 image dtype
  }
  return out;
}

constexpr std::array<double, 3> kImagenetStandardMean{0.5, 0.5, 0.5}, kImagenetStandardStd{0.5, 0.5, 0.5};
constexpr std::array<double, 3> kImagenetDefaultMean{0.485, 0.456, 0.406}, kImagenetDefaultStd{0.229, 0.224, 0.225};
constexpr std::array<double, 3> kOpenAIClipMean{0.48145466, 0.4578275, 0.40821073},
    kOpenAIClipStd{0.26862954, 0.26130258, 0.27577711};

bool has_prefix(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

// image_transforms.center_crop on a uint8 HWC image, including its zero padding
// when the crop is larger than the image.
Image center_crop(const Image& in, int64_t crop_h, int64_t crop_w) {
  auto floordiv2 = [](int64_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); };
  int64_t top = floordiv2(in.height - crop_h), left = floordiv2(in.width - crop_w);
  int64_t canvas_h = in.height, canvas_w = in.width, pad_top = 0, pad_left = 0;
  if (!(top >= 0 && top + crop_h <= in.height && left >= 0 && left + crop_w <= in.width)) {
    // The image sits centred (ceil of half the excess) on a zero canvas at least crop-sized.
    canvas_h = std::max(crop_h, in.height), canvas_w = std::max(crop_w, in.width);
    pad_top = (canvas_h - in.height + 1) / 2, pad_left = (canvas_w - in.width + 1) / 2;
    top += pad_top, left += pad_left;
  }
  const int64_t y0 = std::max<int64_t>(0, top), x0 = std::max<int64_t>(0, left);
  const int64_t y1 = std::min(canvas_h, top + crop_h), x1 = std::min(canvas_w, left + crop_w);
  Image out;
  out.height = y1 - y0;
  out.width = x1 - x0;
  out.rgb.assign(size_t(out.height * out.width * 3), 0);
  for (int64_t y = y0; y < y1; ++y) {
    const int64_t sy = y - pad_top;
    if (sy < 0 || sy >= in.height) continue;
    for (int64_t x = x0; x < x1; ++x) {
      const int64_t sx = x - pad_left;
      if (sx < 0 || sx >= in.width) continue;
      std::memcpy(&out.rgb[size_t(((y - y0) * out.width + (x - x0)) * 3)], &in.rgb[size_t((sy * in.width + sx) * 3)],
                  3);
    }
  }
  return out;
}

}  // namespace

ImageProcessor ImageProcessor::from_dir(const std::string& model_dir) {
  const auto path = std::filesystem::path(model_dir) / "preprocessor_config.json";
  IA_CHECK(std::filesystem::exists(path), model_dir, ": no preprocessor_config.json (needed to preprocess images)");
  return from_json_file(path.string());
}

ImageProcessor ImageProcessor::from_json_file(const std::string& path) {
  return from_json_text(HFConfig::load(path).raw().dump(), path);
}

ImageProcessor ImageProcessor::from_json_text(const std::string& text, const std::string& label) {
  const HFConfig c = HFConfig::parse(text, label);
  ImageProcessor p;
  p.label_ = label;
  std::string type = c.get_string("image_processor_type", "");
  if (type.empty()) type = c.get_string("feature_extractor_type", "");
  IA_CHECK(!type.empty(), label, ": field 'image_processor_type' is missing (cannot tell which image processor to use)");
  p.class_name_ = type;
  if (has_prefix(type, "ViTImageProcessor") || type == "ViTFeatureExtractor") p.kind_ = Kind::ViT;
  else if (has_prefix(type, "CLIPImageProcessor") || type == "CLIPFeatureExtractor") p.kind_ = Kind::CLIP;
  else if (has_prefix(type, "BlipImageProcessor")) p.kind_ = Kind::BLIP;
  else if (has_prefix(type, "SamImageProcessor")) p.kind_ = Kind::SAM;
  else
    throw Unsupported(cat(label, ": field 'image_processor_type' = '", type,
                          "' is not supported (supported: ViTImageProcessor, CLIPImageProcessor, BlipImageProcessor, "
                          "SamImageProcessor)"));

  // Class defaults of transformers 4.44.2, then the config's values.
  std::array<double, 3> mean = kImagenetStandardMean, stdv = kImagenetStandardStd;
  json size_default;
  bool square = true;
  switch (p.kind_) {
    case Kind::ViT:
      size_default = {{"height", 224}, {"width", 224}};
      p.resample_ = Resample::Bilinear;
      break;
    case Kind::CLIP:
      size_default = {{"shortest_edge", 224}};
      square = false;
      p.resample_ = Resample::Bicubic;
      mean = kOpenAIClipMean, stdv = kOpenAIClipStd;
      p.do_center_crop_ = true;
      break;
    case Kind::BLIP:
      size_default = {{"height", 384}, {"width", 384}};
      p.resample_ = Resample::Bicubic;
      mean = kOpenAIClipMean, stdv = kOpenAIClipStd;
      break;
    case Kind::SAM:
      size_default = {{"longest_edge", 1024}};
      square = false;
      p.resample_ = Resample::Bilinear;
      mean = kImagenetDefaultMean, stdv = kImagenetDefaultStd;
      p.do_pad_ = true;
      break;
  }
  p.do_resize_ = c.get_bool("do_resize", true);
  p.do_rescale_ = c.get_bool("do_rescale", true);
  p.do_normalize_ = c.get_bool("do_normalize", true);
  p.rescale_factor_ = c.get_float("rescale_factor", 1.0 / 255.0);
  if (c.has("resample")) p.resample_ = resample_from_code(c.get_int("resample"), label + ": field 'resample'");
  p.mean_ = channel_values(c, "image_mean", mean);
  p.std_ = channel_values(c, "image_std", stdv);
  for (int i = 0; i < 3; ++i)
    IA_CHECK(p.std_[i] != 0.0f || !p.do_normalize_, label, ": field 'image_std' has a zero entry");

  const SizeDict size = size_dict(c.has("size") ? c.raw().at("size") : size_default, square, label, "size");
  switch (p.kind_) {
    case Kind::ViT:
    case Kind::BLIP:
      IA_CHECK(size.has_hw, label, ": field 'size' must have 'height' and 'width' for ", type);
      p.size_h_ = size.height, p.size_w_ = size.width;
      break;
    case Kind::CLIP: {
      if (size.has_hw) {
        p.size_h_ = size.height, p.size_w_ = size.width;
      } else {
        IA_CHECK(size.has_shortest, label, ": field 'size' must have 'shortest_edge' or 'height' and 'width'");
        p.shortest_edge_ = size.shortest_edge;
        if (c.get_bool("use_square_size", false)) p.size_h_ = p.size_w_ = size.shortest_edge, p.shortest_edge_ = 0;
      }
      p.do_center_crop_ = c.get_bool("do_center_crop", true);
      const SizeDict crop = size_dict(c.has("crop_size") ? c.raw().at("crop_size") : json{{"height", 224}, {"width", 224}},
                                      true, label, "crop_size");
      IA_CHECK(crop.has_hw, label, ": field 'crop_size' must have 'height' and 'width'");
      p.crop_h_ = crop.height, p.crop_w_ = crop.width;
      break;
    }
    case Kind::SAM: {
      IA_CHECK(size.has_longest, label, ": field 'size' must have 'longest_edge' for SamImageProcessor");
      p.longest_edge_ = size.longest_edge;
      p.do_pad_ = c.get_bool("do_pad", true);
      const SizeDict pad = size_dict(c.has("pad_size") ? c.raw().at("pad_size") : json{{"height", 1024}, {"width", 1024}},
                                     true, label, "pad_size");
      IA_CHECK(pad.has_hw, label, ": field 'pad_size' must have 'height' and 'width'");
      p.pad_h_ = pad.height, p.pad_w_ = pad.width;
      break;
    }
  }
  return p;
}

std::array<int64_t, 2> ImageProcessor::sam_preprocess_shape(int64_t h, int64_t w, int64_t longest_edge) {
  const double scale = double(longest_edge) * 1.0 / double(std::max(h, w));
  const double nh = double(h) * scale, nw = double(w) * scale;
  return {int64_t(nh + 0.5), int64_t(nw + 0.5)};
}

ImageProcessor::Stages ImageProcessor::run(const Image& img) const {
  IA_CHECK(img.width > 0 && img.height > 0 && img.rgb.size() == size_t(img.width * img.height * 3), label_,
           ": invalid image (", img.width, "x", img.height, ", ", img.rgb.size(), " bytes)");
  Stages st;
  st.original_h = img.height, st.original_w = img.width;
  if (do_resize_) {
    int64_t h = size_h_, w = size_w_;
    if (kind_ == Kind::CLIP && shortest_edge_ > 0) {
      // get_resize_output_image_size(default_to_square=False): long = int(short_target * long / short).
      const bool portrait = img.width <= img.height;
      const int64_t shorter = portrait ? img.width : img.height, longer = portrait ? img.height : img.width;
      const int64_t new_long = int64_t(double(shortest_edge_) * double(longer) / double(shorter));
      h = portrait ? new_long : shortest_edge_;
      w = portrait ? shortest_edge_ : new_long;
    } else if (kind_ == Kind::SAM) {
      const auto hw = sam_preprocess_shape(img.height, img.width, longest_edge_);
      h = hw[0], w = hw[1];
    }
    IA_CHECK(h > 0 && w > 0, label_, ": image of ", img.width, "x", img.height, " resizes to an empty ", w, "x", h);
    st.resized = pil_resize(img, w, h, resample_);
  } else {
    st.resized = img;
  }
  st.reshaped_h = st.resized.height, st.reshaped_w = st.resized.width;
  const Image* cur = &st.resized;
  if (kind_ == Kind::CLIP && do_center_crop_) {
    st.cropped = center_crop(st.resized, crop_h_, crop_w_);
    cur = &st.cropped;
  }
  int64_t out_h = cur->height, out_w = cur->width;
  if (kind_ == Kind::SAM && do_pad_) {
    IA_CHECK(pad_h_ >= out_h && pad_w_ >= out_w, label_, ": resized image ", out_w, "x", out_h,
             " is larger than pad_size ", pad_w_, "x", pad_h_);
    out_h = pad_h_, out_w = pad_w_;
  }
  st.pixel_values = Tensor::zeros(DType::F32, {1, 3, out_h, out_w});
  float* dst = st.pixel_values.f32();
  for (int c = 0; c < 3; ++c) {
    const float mean = mean_[c], sd = std_[c];
    for (int64_t y = 0; y < cur->height; ++y) {
      for (int64_t x = 0; x < cur->width; ++x) {
        const uint8_t v = cur->rgb[size_t((y * cur->width + x) * 3 + c)];
        // rescale: float64 product cast to float32; normalize: float32 arithmetic.
        float f = do_rescale_ ? float(double(v) * rescale_factor_) : float(v);
        if (do_normalize_) f = (f - mean) / sd;
        dst[(c * out_h + y) * out_w + x] = f;
      }
    }
  }
  return st;
}

Tensor ImageProcessor::preprocess(const Image& img) const { return run(img).pixel_values; }

Tensor ImageProcessor::preprocess_batch(const std::vector<Image>& imgs) const {
  IA_CHECK(!imgs.empty(), label_, ": preprocess_batch needs at least one image");
  std::vector<Tensor> each;
  each.reserve(imgs.size());
  for (const Image& im : imgs) each.push_back(preprocess(im));
  const Shape one = each[0].shape();
  for (size_t i = 1; i < each.size(); ++i)
    IA_CHECK(each[i].shape() == one, label_, ": image ", i, " preprocesses to ", shape_str(each[i].shape()),
             " but image 0 to ", shape_str(one), " (a batch needs one size)");
  Tensor out = Tensor::f32({int64_t(imgs.size()), one[1], one[2], one[3]});
  const size_t per = size_t(each[0].numel());
  for (size_t i = 0; i < each.size(); ++i) std::memcpy(out.f32() + i * per, each[i].f32(), per * sizeof(float));
  return out;
}

int64_t ImageProcessor::output_height() const {
  if (kind_ == Kind::SAM) return do_pad_ ? pad_h_ : 0;
  if (kind_ == Kind::CLIP && do_center_crop_) return crop_h_;
  return do_resize_ && shortest_edge_ == 0 ? size_h_ : 0;
}

int64_t ImageProcessor::output_width() const {
  if (kind_ == Kind::SAM) return do_pad_ ? pad_w_ : 0;
  if (kind_ == Kind::CLIP && do_center_crop_) return crop_w_;
  return do_resize_ && shortest_edge_ == 0 ? size_w_ : 0;
}

std::vector<double> ImageProcessor::sam_rescale_coordinates(const std::vector<double>& xy, int64_t original_h,
                                                            int64_t original_w) const {
  IA_CHECK(xy.size() % 2 == 0, label_, ": coordinates must come in (x, y) pairs, got ", xy.size(), " values");
  IA_CHECK(original_h > 0 && original_w > 0, label_, ": invalid original size ", original_w, "x", original_h);
  const auto hw = sam_preprocess_shape(original_h, original_w, longest_edge_ > 0 ? longest_edge_ : 1024);
  const double sx = double(hw[1]) / double(original_w), sy = double(hw[0]) / double(original_h);
  std::vector<double> out(xy.size());
  for (size_t i = 0; i < xy.size(); i += 2) out[i] = xy[i] * sx, out[i + 1] = xy[i + 1] * sy;
  return out;
}

}  // namespace ia
