#include "formats/checkpoint.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"

namespace ia {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::shared_ptr<Checkpoint> Checkpoint::open_dir(const std::string& dir) {
  IA_CHECK(fs::is_directory(dir), dir, ": not a directory");
  fs::path index = fs::path(dir) / "model.safetensors.index.json";
  fs::path single = fs::path(dir) / "model.safetensors";
  std::vector<std::string> files;
  std::map<std::string, std::string> expected;  // tensor -> shard named by the index
  if (fs::exists(index)) {
    std::ifstream in(index);
    json j;
    try {
      j = json::parse(in);
    } catch (const json::exception& e) {
      fail(index.string(), ": malformed JSON: ", e.what());
    }
    IA_CHECK(j.is_object() && j.contains("weight_map") && j["weight_map"].is_object(), index.string(),
             ": missing object field 'weight_map'");
    std::set<std::string> shards;
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
      IA_CHECK(it.value().is_string(), index.string(), ": weight_map['", it.key(), "'] is not a file name");
      std::string shard = it.value().get<std::string>();
      IA_CHECK(shard.find('/') == std::string::npos && shard.find("..") == std::string::npos, index.string(),
               ": weight_map['", it.key(), "'] names a file outside the directory: ", shard);
      shards.insert(shard);
      expected[it.key()] = shard;
    }
    for (const auto& s : shards) {
      fs::path p = fs::path(dir) / s;
      IA_CHECK(fs::exists(p), index.string(), ": shard '", s, "' listed in weight_map does not exist");
      files.push_back(p.string());
    }
  } else if (fs::exists(single)) {
    files.push_back(single.string());
  } else {
    bool has_bin = fs::exists(fs::path(dir) / "pytorch_model.bin");
    fail(dir, ": no model.safetensors or model.safetensors.index.json found",
         has_bin ? " (pytorch_model.bin is a pickle; only safetensors checkpoints are read)" : "");
  }
  auto ck = open_files(files);
  for (const auto& [name, shard] : expected) {
    IA_CHECK(ck->has(name), index.string(), ": tensor '", name, "' is listed in weight_map but missing from ", shard);
    IA_CHECK(fs::path(ck->file_of(name)).filename() == shard, index.string(), ": tensor '", name, "' found in ",
             ck->file_of(name), " but weight_map says ", shard);
  }
  ck->label_ = files.size() == 1 ? files[0] : cat(dir, " (", files.size(), " shards)");
  return ck;
}

std::shared_ptr<Checkpoint> Checkpoint::open_files(const std::vector<std::string>& files) {
  auto ck = std::make_shared<Checkpoint>();
  for (const auto& f : files) {
    auto sf = SafetensorsFile::open(f);
    size_t idx = ck->files_.size();
    for (const auto& [name, ti] : sf->tensors()) {
      auto [it, inserted] = ck->where_.emplace(name, idx);
      IA_CHECK(inserted, "tensor '", name, "' appears in both ", ck->files_[it->second]->path(), " and ", f);
    }
    ck->files_.push_back(std::move(sf));
  }
  ck->label_ = files.size() == 1 ? files[0] : cat(files.size(), " safetensors files");
  return ck;
}

Tensor Checkpoint::get(const std::string& name) const {
  auto it = where_.find(name);
  IA_CHECK(it != where_.end(), description(), ": missing tensor '", name, "'");
  return files_[it->second]->tensor(name);
}

const TensorInfo& Checkpoint::info(const std::string& name) const {
  auto it = where_.find(name);
  IA_CHECK(it != where_.end(), description(), ": missing tensor '", name, "'");
  return files_[it->second]->info(name);
}

const std::string& Checkpoint::file_of(const std::string& name) const {
  auto it = where_.find(name);
  IA_CHECK(it != where_.end(), description(), ": missing tensor '", name, "'");
  return files_[it->second]->path();
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> r;
  for (const auto& [n, i] : where_) r.push_back(n);
  return r;
}

bool Checkpoint::has_prefix(const std::string& prefix) const {
  auto it = where_.lower_bound(prefix);
  return it != where_.end() && it->first.compare(0, prefix.size(), prefix) == 0;
}

std::string Checkpoint::description() const { return label_; }

}  // namespace ia
