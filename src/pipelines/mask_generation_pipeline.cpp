#include "pipelines/mask_generation_pipeline.h"

#include <filesystem>
#include <iostream>
#include <iterator>
#include <sstream>

#include "core/error.h"
#include "pipelines/mask_png.h"
#include "pipelines/pipeline_result.h"
#include "preprocess/image.h"
#include "preprocess/image_processor.h"

namespace ia {

namespace {

std::vector<double> parse_numbers(const std::string& s, const char* option) {
  std::vector<double> r;
  std::string tok;
  std::istringstream in(s);
  while (std::getline(in, tok, ',')) {
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(tok, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    IA_CHECK(used > 0 && tok.find_first_not_of(" \t", used) == std::string::npos && std::isfinite(v), option,
             ": '", tok, "' is not a number (in '", s, "')");
    r.push_back(v);
  }
  return r;
}

Image load_image(const std::string& src) {
  if (src != "-") return decode_image_file(src);
  std::string bytes((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  return decode_image_bytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "stdin");
}

}  // namespace

std::vector<std::array<double, 2>> parse_points(const std::string& s) {
  std::vector<std::array<double, 2>> r;
  std::string item;
  std::istringstream in(s);
  while (std::getline(in, item, ';')) {
    std::vector<double> v = parse_numbers(item, "--points");
    IA_CHECK(v.size() == 2, "--points: '", item, "' must be x,y");
    r.push_back({v[0], v[1]});
  }
  IA_CHECK(!r.empty(), "--points: no point in '", s, "'");
  return r;
}

std::vector<int64_t> parse_labels(const std::string& s) {
  std::vector<int64_t> r;
  for (double v : parse_numbers(s, "--labels")) {
    IA_CHECK(v == 0 || v == 1, "--labels: point labels are 1 (foreground) or 0 (background), got ", v);
    r.push_back(int64_t(v));
  }
  return r;
}

std::array<double, 4> parse_box(const std::string& s) {
  std::vector<double> v = parse_numbers(s, "--box");
  IA_CHECK(v.size() == 4, "--box: '", s, "' must be x0,y0,x1,y1");
  IA_CHECK(v[2] >= v[0] && v[3] >= v[1], "--box: '", s, "' needs x1 >= x0 and y1 >= y0");
  return {v[0], v[1], v[2], v[3]};
}

MaskGenerationPipeline::MaskGenerationPipeline(const std::string& model_dir) : dir_(model_dir) {}
MaskGenerationPipeline::~MaskGenerationPipeline() = default;

nlohmann::json MaskGenerationPipeline::run(const MaskGenerationRequest& req) {
  try {
    return run_or_throw(req);
  } catch (const std::exception& e) {
    return error_result(e.what());
  }
}

nlohmann::json MaskGenerationPipeline::run_or_throw(const MaskGenerationRequest& req) {
  if (!model_) model_ = load_model(dir_);
  IA_CHECK(model_->model_type() == "sam", dir_, ": mask-generation needs a SAM checkpoint, not '",
           model_->model_type(), "'");
  IA_CHECK(req.labels.empty() || req.labels.size() == req.points.size(), "--labels: ", req.labels.size(),
           " labels for ", req.points.size(), " points");
  const ImageProcessor proc = ImageProcessor::from_dir(dir_);
  IA_CHECK(proc.kind() == ImageProcessor::Kind::SAM, dir_, "/preprocessor_config.json: ", proc.class_name(),
           " is not a SamImageProcessor");
  const Image img = load_image(req.image);
  const ImageProcessor::Stages st = proc.run(img);
  const int64_t H = st.original_h, W = st.original_w;

  TensorMap in{{"pixel_values", st.pixel_values}};
  // SamProcessor: prompts in original pixels are rescaled to the resized frame.
  if (!req.points.empty()) {
    std::vector<double> xy;
    for (const auto& p : req.points) xy.insert(xy.end(), {p[0], p[1]});
    std::vector<double> r = proc.sam_rescale_coordinates(xy, H, W);
    const int64_t N = int64_t(req.points.size());
    std::vector<float> pts(r.begin(), r.end());
    in["input_points"] = Tensor::from_vector(pts, {1, 1, N, 2});
    std::vector<int64_t> labels = req.labels.empty() ? std::vector<int64_t>(size_t(N), 1) : req.labels;
    in["input_labels"] = Tensor::from_vector_i64(labels, {1, 1, N});
  }
  if (req.box) {
    std::vector<double> r = proc.sam_rescale_coordinates({(*req.box)[0], (*req.box)[1], (*req.box)[2], (*req.box)[3]}, H, W);
    in["input_boxes"] = Tensor::from_vector(std::vector<float>(r.begin(), r.end()), {1, 1, 4});
  }
  in["multimask_output"] = Tensor::from_vector_i64({req.multimask ? 1 : 0}, {1});
  TensorMap out = model_->forward(in);
  const Tensor& low = out.at("pred_masks");  // [1, 1, m, h, w]
  const Tensor& iou = out.at("iou_scores");  // [1, 1, m]
  Tensor masks = proc.sam_post_process_masks(low, H, W, st.reshaped_h, st.reshaped_w, true, req.mask_threshold);
  const int64_t m = iou.numel();
  IA_CHECK(masks.numel() == m * H * W, "mask-generation: post-processed masks ", shape_str(masks.shape()),
           " do not hold ", m, " masks of ", H, "x", W);
  if (!req.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(req.out_dir, ec);
    IA_CHECK(!ec, req.out_dir, ": cannot create output directory: ", ec.message());
  }
  nlohmann::json items = nlohmann::json::array();
  std::vector<float> scores;
  for (int64_t i = 0; i < m; ++i) {
    const float* mk = masks.f32() + i * H * W;
    int64_t area = 0;
    for (int64_t p = 0; p < H * W; ++p) area += mk[p] > 0.5f;
    nlohmann::json item = {{"index", i}, {"score", iou.f32()[i]}, {"area", area}};
    if (req.rle) item["rle"] = mask_to_rle(mk, H, W);
    if (!req.out_dir.empty()) {
      const std::string path = (std::filesystem::path(req.out_dir) / ("mask_" + std::to_string(i) + ".png")).string();
      write_mask_png(path, mk, H, W);
      item["png"] = path;
    }
    items.push_back(item);
    scores.push_back(iou.f32()[i]);
  }
  nlohmann::json payload = {{"masks", items},
                            {"scores", scores},
                            {"image_size", {H, W}},
                            {"multimask_output", req.multimask},
                            {"num_points", req.points.size()},
                            {"box", req.box ? nlohmann::json(*req.box) : nlohmann::json()}};
  return success_result("segmentation_output", payload);
}

}  // namespace ia
