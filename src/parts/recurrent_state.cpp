#include "parts/recurrent_state.h"

#include <algorithm>

#include "core/error.h"
#include "formats/safetensors.h"

namespace ia {

void RecurrentState::configure(int64_t n_layers, std::vector<Slot> slots) {
  IA_CHECK(n_layers > 0 && !slots.empty(), "recurrent state: needs at least one layer and one slot");
  n_layers_ = n_layers;
  slots_ = std::move(slots);
  row_size_.clear();
  slot_offset_.clear();
  size_t off = 0;
  for (const auto& s : slots_) {
    int64_t n = shape_numel(s.row_shape);
    IA_CHECK(n > 0, "recurrent state: slot '", s.name, "' has empty shape ", shape_str(s.row_shape));
    row_size_.push_back(n);
    slot_offset_.push_back(off);
    off += size_t(n);
  }
  batch_ = 0;
  tokens_ = 0;
  layer_stride_ = 0;
}

size_t RecurrentState::bytes_per_row() const {
  size_t per_layer = 0;
  for (int64_t n : row_size_) per_layer += size_t(n);
  return per_layer * size_t(n_layers_) * sizeof(float);
}

void RecurrentState::reset(int64_t batch) {
  IA_CHECK(n_layers_ > 0, "recurrent state: reset before configure");
  IA_CHECK(batch > 0, "recurrent state: batch must be positive, got ", batch);
  batch_ = batch;
  tokens_ = 0;
  layer_stride_ = bytes_per_row() / sizeof(float) / size_t(n_layers_) * size_t(batch);
  size_t total = layer_stride_ * size_t(n_layers_);
  if (buf_.size() < total) buf_.resize(total);
  for (int64_t l = 0; l < n_layers_; ++l)
    for (size_t s = 0; s < slots_.size(); ++s) {
      float* d = data(l, int(s));
      std::fill(d, d + size_t(batch) * size_t(row_size_[s]), slots_[s].init);
    }
}

void RecurrentState::save(const std::string& path, const std::map<std::string, std::string>& meta) const {
  IA_CHECK(batch_ > 0, path, ": no recurrent state to save (nothing has been run)");
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (int64_t l = 0; l < n_layers_; ++l)
    for (size_t s = 0; s < slots_.size(); ++s) {
      Shape shape{batch_};
      shape.insert(shape.end(), slots_[s].row_shape.begin(), slots_[s].row_shape.end());
      Tensor t = Tensor::view(DType::F32, shape, data(l, int(s)), nullptr);
      tensors.emplace_back("layers." + std::to_string(l) + "." + slots_[s].name, t);
    }
  std::map<std::string, std::string> m = meta;
  m["format"] = "ipfs-accelerate.recurrent_state.v1";
  m["tokens"] = std::to_string(tokens_);
  m["batch"] = std::to_string(batch_);
  m["num_layers"] = std::to_string(n_layers_);
  write_safetensors(path, tensors, m);
}

void RecurrentState::load(const std::string& path, const std::map<std::string, std::string>& expect) {
  auto f = SafetensorsFile::open(path);
  const auto& md = f->metadata();
  auto get_meta = [&](const std::string& key) -> const std::string& {
    auto it = md.find(key);
    IA_CHECK(it != md.end(), path, ": not a recurrent-state file (metadata field '", key, "' missing)");
    return it->second;
  };
  IA_CHECK(get_meta("format") == "ipfs-accelerate.recurrent_state.v1", path, ": unknown state format '",
           get_meta("format"), "'");
  // model_type first: "saved from another model" is the more useful message than a hash mismatch.
  auto check = [&](const std::string& k, const std::string& v) {
    IA_CHECK(get_meta(k) == v, path, ": metadata field '", k, "' is '", get_meta(k), "' but this model has '", v,
             "' (state saved from a different model or config)");
  };
  if (auto it = expect.find("model_type"); it != expect.end()) check(it->first, it->second);
  for (const auto& [k, v] : expect) check(k, v);
  IA_CHECK(get_meta("num_layers") == std::to_string(n_layers_), path, ": state has ", get_meta("num_layers"),
           " layers, the model has ", n_layers_);
  int64_t batch = 0, tokens = 0;
  try {
    batch = std::stoll(get_meta("batch"));
    tokens = std::stoll(get_meta("tokens"));
  } catch (const std::exception&) {
    fail(path, ": metadata fields 'batch'/'tokens' are not integers");
  }
  IA_CHECK(batch > 0 && tokens >= 0, path, ": invalid batch ", batch, " / tokens ", tokens);
  reset(batch);
  for (int64_t l = 0; l < n_layers_; ++l)
    for (size_t s = 0; s < slots_.size(); ++s) {
      std::string name = "layers." + std::to_string(l) + "." + slots_[s].name;
      IA_CHECK(f->has(name), path, ": missing tensor '", name, "'");
      Shape want{batch};
      want.insert(want.end(), slots_[s].row_shape.begin(), slots_[s].row_shape.end());
      const TensorInfo& info = f->info(name);
      IA_CHECK(info.dtype == DType::F32 && info.shape == want, path, ": tensor '", name, "' is ",
               dtype_name(info.dtype), " ", shape_str(info.shape), ", expected F32 ", shape_str(want));
      Tensor t = f->tensor(name);
      std::copy(t.f32(), t.f32() + t.numel(), data(l, int(s)));
    }
  tokens_ = tokens;
}

}  // namespace ia
