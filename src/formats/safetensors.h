// Memory-mapped safetensors reader with full header validation.
// Format: u64 little-endian header length N, N bytes of JSON header
// {name: {dtype, shape, data_offsets:[begin,end]}, "__metadata__": {...}},
// then the data section. Every field is checked; errors name file and tensor.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace ia {

struct TensorInfo {
  std::string name;
  DType dtype;
  Shape shape;
  size_t begin = 0;  // offsets into the data section
  size_t end = 0;
};

class SafetensorsFile {
 public:
  // Maps and validates `path`; throws ia::Error naming the file and tensor on any defect.
  static std::shared_ptr<SafetensorsFile> open(const std::string& path);
  // Parses an in-memory image (used by the fuzz target and tests); `label` names it in errors.
  static std::shared_ptr<SafetensorsFile> from_bytes(std::string bytes, const std::string& label);
  ~SafetensorsFile();

  const std::string& path() const { return path_; }
  size_t size() const { return size_; }  // whole file, header included
  const unsigned char* image() const { return base_; }  // the whole file's bytes (mapped or loaded)
  // Maps the file through 2 MiB pages of the page cache (formats/weight_placement.h),
  // in place: the address and every view stay valid. Returns the bytes now mapped that
  // way (0 for from_bytes images or when the kernel keeps the file in small pages).
  size_t use_huge_pages();
  // Bytes of this file currently mapped through 2 MiB pages.
  size_t huge_page_bytes() const;
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  const TensorInfo& info(const std::string& name) const;
  // Zero-copy view when the data is suitably aligned, else an aligned copy.
  Tensor tensor(const std::string& name) const;

 private:
  SafetensorsFile() = default;
  void parse();

  std::string path_;
  const unsigned char* base_ = nullptr;  // whole file image
  size_t size_ = 0;
  size_t data_start_ = 0;
  void* map_ = nullptr;  // reservation holding the 2 MiB-aligned mapping (nullptr when from_bytes)
  size_t map_len_ = 0;
  std::string bytes_;    // owned image (from_bytes)
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
  std::weak_ptr<SafetensorsFile> self_;
  friend struct SafetensorsAccess;
};

// Writes tensors as a safetensors file (used to make benchmark checkpoints and test data).
void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace ia
