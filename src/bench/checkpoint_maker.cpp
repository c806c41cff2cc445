#include "bench/checkpoint_maker.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/error.h"
#include "formats/safetensors.h"

namespace ia::bench {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

const char* torch_dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "float32";
    case DType::F16: return "float16";
    case DType::BF16: return "bfloat16";
    default: return "float32";
  }
}

void write_json(const fs::path& path, const json& j) {
  std::ofstream out(path);
  IA_CHECK(out.good(), path.string(), ": cannot open for writing");
  out << j.dump(2) << "\n";
  IA_CHECK(out.good(), path.string(), ": write failed");
}

// Creates one tensor of `spec` in `dtype`, filled per its Init kind.
Tensor materialise(const TensorSpec& spec, DType dtype, float std, uint64_t seed) {
  const int64_t n = shape_numel(spec.shape);
  Tensor f = Tensor::f32(spec.shape);
  float* p = f.f32();
  switch (spec.init) {
    case Init::Ones: std::fill(p, p + n, 1.f); break;
    case Init::Zeros: std::fill(p, p + n, 0.f); break;
    case Init::Normal: fill_normal(p, size_t(n), std, seed); break;
  }
  if (dtype == DType::F32) return f;
  Tensor t = Tensor::empty(dtype, spec.shape);
  auto* d = static_cast<uint16_t*>(t.raw());
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) d[i] = dtype == DType::BF16 ? f32_to_bf16(p[i]) : f32_to_f16(p[i]);
  return t;
}

}  // namespace

void fill_normal(float* dst, size_t n, float std, uint64_t seed) {
  constexpr size_t kChunk = 1 << 16;  // each chunk has its own generator state
  const double mean = 4 * 32767.5;
  const double inv_sd = 1.0 / std::sqrt(4.0 * (65536.0 * 65536.0 - 1.0) / 12.0);
  const int64_t chunks = int64_t((n + kChunk - 1) / kChunk);
#pragma omp parallel for schedule(static) if (chunks > 1)
  for (int64_t c = 0; c < chunks; ++c) {
    uint64_t state = seed ^ (uint64_t(c) * 0xd1b54a32d192ed03ull);
    splitmix64(state);
    const size_t begin = size_t(c) * kChunk, end = std::min(n, begin + kChunk);
    for (size_t i = begin; i < end; ++i) {
      uint64_t r = splitmix64(state);
      double s = double(r & 0xffff) + double((r >> 16) & 0xffff) + double((r >> 32) & 0xffff) + double(r >> 48);
      dst[i] = float((s - mean) * inv_sd) * std;
    }
  }
}

MakeResult make_checkpoint(const Preset& preset, const MakeOptions& opts) {
  IA_CHECK(opts.dtype == DType::F32 || opts.dtype == DType::F16 || opts.dtype == DType::BF16,
           "make-checkpoint: --dtype must be f32, f16 or bf16 (got ", dtype_name(opts.dtype), ")");
  IA_CHECK(!opts.out_dir.empty(), "make-checkpoint: --out is required");
  const auto t0 = std::chrono::steady_clock::now();
  const fs::path dir(opts.out_dir);
  fs::create_directories(dir);
  // Remove weights of an earlier run so a single file and shards never coexist.
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string f = e.path().filename().string();
    if (f.rfind("model", 0) == 0 && (e.path().extension() == ".safetensors" || f == "model.safetensors.index.json"))
      fs::remove(e.path());
  }

  json config = preset.config;
  config["torch_dtype"] = torch_dtype_name(opts.dtype);
  config["transformers_version"] = "4.44.2";
  write_json(dir / "config.json", config);
  if (!preset.generation_config.is_null()) {
    json g = preset.generation_config;
    g["transformers_version"] = "4.44.2";
    write_json(dir / "generation_config.json", g);
  }

  // Group tensors into shards of at most max_shard_bytes (a larger tensor gets its own shard).
  const size_t es = dtype_size(opts.dtype);
  std::vector<std::vector<size_t>> shards(1);
  size_t cur = 0;
  MakeResult res;
  for (size_t i = 0; i < preset.tensors.size(); ++i) {
    const size_t b = size_t(shape_numel(preset.tensors[i].shape)) * es;
    if (cur > 0 && cur + b > opts.max_shard_bytes) {
      shards.emplace_back();
      cur = 0;
    }
    shards.back().push_back(i);
    cur += b;
    res.bytes += b;
    res.parameters += shape_numel(preset.tensors[i].shape);
  }
  const int n = int(shards.size());
  json weight_map = json::object();
  for (int s = 0; s < n; ++s) {
    char fname[64];
    if (n == 1)
      std::snprintf(fname, sizeof fname, "model.safetensors");
    else
      std::snprintf(fname, sizeof fname, "model-%05d-of-%05d.safetensors", s + 1, n);
    std::vector<std::pair<std::string, Tensor>> tensors;
    for (size_t i : shards[s]) {
      const TensorSpec& spec = preset.tensors[i];
      const uint64_t seed = opts.seed * 0x2545f4914f6cdd1dull + i * 0x9e3779b97f4a7c15ull + 1;
      tensors.emplace_back(spec.name, materialise(spec, opts.dtype, preset.init_std, seed));
      weight_map[spec.name] = fname;
    }
    write_safetensors((dir / fname).string(), tensors, {{"format", "pt"}});
  }
  if (n > 1)
    write_json(dir / "model.safetensors.index.json",
               {{"metadata", {{"total_size", res.bytes}}}, {"weight_map", weight_map}});
  res.shards = n;
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace ia::bench
