// A Hugging Face checkpoint directory's weights: one model.safetensors or the
// shards listed by model.safetensors.index.json, addressed by tensor name.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "formats/safetensors.h"

namespace ia {

class Checkpoint {
 public:
  // Opens the weights of `dir`; errors name the directory and what is missing.
  static std::shared_ptr<Checkpoint> open_dir(const std::string& dir);
  // Opens explicit safetensors files (all tensors merged; duplicate names are an error).
  static std::shared_ptr<Checkpoint> open_files(const std::vector<std::string>& files);

  bool has(const std::string& name) const { return where_.count(name) != 0; }
  Tensor get(const std::string& name) const;  // original dtype, zero-copy where possible
  const TensorInfo& info(const std::string& name) const;
  const std::string& file_of(const std::string& name) const;
  std::vector<std::string> names() const;
  bool has_prefix(const std::string& prefix) const;  // any tensor name starts with prefix
  const std::vector<std::shared_ptr<SafetensorsFile>>& files() const { return files_; }
  std::string description() const;  // "dir/model.safetensors" or "dir (3 shards)"

 private:
  std::vector<std::shared_ptr<SafetensorsFile>> files_;
  std::map<std::string, size_t> where_;
  std::string label_;
};

}  // namespace ia
