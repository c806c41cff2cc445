#include "formats/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/huge_pages.h"

namespace ia {

using json = nlohmann::json;

namespace {
constexpr uint64_t kMaxHeader = 100ull << 20;  // same limit as the reference implementation

bool mul_overflows(uint64_t a, uint64_t b, uint64_t* out) { return __builtin_mul_overflow(a, b, out); }
}  // namespace

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  IA_CHECK(fd >= 0, path, ": cannot open safetensors file: ", std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path, ": not a regular file");
  }
  std::shared_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->path_ = path;
  f->size_ = size_t(st.st_size);
  if (f->size_ > 0) {
    // Mapped at a 2 MiB-aligned address so that file offset 0 starts a huge page: the
    // kernel can then map whole 2 MiB page-cache folios (use_huge_pages). Reserving
    // the slack costs address space only.
    const size_t len = f->size_ + kHugePageBytes;
    void* r = ::mmap(nullptr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r == MAP_FAILED) {
      const int e = errno;
      ::close(fd);
      fail(path, ": cannot reserve address space for mmap: ", std::strerror(e));
    }
    auto* at = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(r) + kHugePageBytes - 1) & ~(kHugePageBytes - 1));
    void* m = ::mmap(at, f->size_, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
    const int e = errno;
    ::close(fd);
    if (m == MAP_FAILED) {
      ::munmap(r, len);
      fail(path, ": mmap failed: ", std::strerror(e));
    }
    f->map_ = r;
    f->map_len_ = len;
    f->base_ = static_cast<const unsigned char*>(m);
  } else {
    ::close(fd);
  }
  f->self_ = f;
  f->parse();
  return f;
}

std::shared_ptr<SafetensorsFile> SafetensorsFile::from_bytes(std::string bytes, const std::string& label) {
  std::shared_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->path_ = label;
  f->bytes_ = std::move(bytes);
  f->base_ = reinterpret_cast<const unsigned char*>(f->bytes_.data());
  f->size_ = f->bytes_.size();
  f->self_ = f;
  f->parse();
  return f;
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(map_, map_len_);
}

void SafetensorsFile::parse() {
  IA_CHECK(size_ >= 8, path_, ": truncated safetensors file (", size_, " bytes; the 8-byte header length is missing)");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | base_[i];
  IA_CHECK(n <= kMaxHeader, path_, ": header length ", n, " exceeds the 100 MiB limit");
  IA_CHECK(n <= size_ - 8, path_, ": header length ", n, " runs past the end of the file (", size_, " bytes): truncated file?");
  data_start_ = 8 + size_t(n);
  const char* h = reinterpret_cast<const char*>(base_ + 8);

  // Duplicate keys are legal JSON that nlohmann silently collapses; catch them while parsing.
  std::set<std::string> seen;
  std::string dup;
  json::parser_callback_t cb = [&](int depth, json::parse_event_t ev, json& parsed) {
    if (ev == json::parse_event_t::key && depth == 1 && parsed.is_string()) {
      auto key = parsed.get<std::string>();
      if (!seen.insert(key).second && dup.empty()) dup = key;
    }
    return true;
  };
  json header;
  try {
    header = json::parse(h, h + n, cb);
  } catch (const json::exception& e) {
    fail(path_, ": malformed safetensors header JSON: ", e.what());
  }
  IA_CHECK(dup.empty(), path_, ": tensor '", dup, "' appears more than once in the header");
  IA_CHECK(header.is_object(), path_, ": safetensors header is not a JSON object");

  const size_t data_size = size_ - data_start_;
  std::vector<const TensorInfo*> by_offset;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const json& v = it.value();
    if (name == "__metadata__") {
      IA_CHECK(v.is_object(), path_, ": __metadata__ must be an object of strings");
      for (auto m = v.begin(); m != v.end(); ++m) {
        IA_CHECK(m.value().is_string(), path_, ": __metadata__ field '", m.key(), "' is not a string");
        metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    IA_CHECK(v.is_object(), path_, ": tensor '", name, "': entry is not an object");
    TensorInfo ti;
    ti.name = name;
    IA_CHECK(v.contains("dtype") && v["dtype"].is_string(), path_, ": tensor '", name, "': missing or non-string field 'dtype'");
    std::string dt = v["dtype"].get<std::string>();
    IA_CHECK(dtype_from_name(dt, &ti.dtype), path_, ": tensor '", name, "': unsupported dtype '", dt, "'");
    IA_CHECK(v.contains("shape") && v["shape"].is_array(), path_, ": tensor '", name, "': missing or non-array field 'shape'");
    uint64_t count = 1;
    for (const auto& d : v["shape"]) {
      IA_CHECK(d.is_number_unsigned() || (d.is_number_integer() && d.get<int64_t>() >= 0), path_, ": tensor '", name,
               "': shape entries must be non-negative integers");
      uint64_t du = d.get<uint64_t>();
      IA_CHECK(du <= (1ull << 48) && !mul_overflows(count, du, &count), path_, ": tensor '", name, "': shape overflows");
      ti.shape.push_back(int64_t(du));
    }
    IA_CHECK(v.contains("data_offsets") && v["data_offsets"].is_array() && v["data_offsets"].size() == 2, path_,
             ": tensor '", name, "': field 'data_offsets' must be [begin, end]");
    const json& off = v["data_offsets"];
    IA_CHECK(off[0].is_number_unsigned() && off[1].is_number_unsigned(), path_, ": tensor '", name,
             "': data_offsets must be non-negative integers");
    uint64_t b = off[0].get<uint64_t>(), e = off[1].get<uint64_t>();
    IA_CHECK(b <= e, path_, ": tensor '", name, "': data_offsets begin ", b, " > end ", e);
    IA_CHECK(e <= data_size, path_, ": tensor '", name, "': data_offsets [", b, ", ", e, "] point outside the data section (",
             data_size, " bytes): truncated file?");
    uint64_t bytes = 0;
    IA_CHECK(!mul_overflows(count, dtype_size(ti.dtype), &bytes), path_, ": tensor '", name, "': byte size overflows");
    IA_CHECK(bytes == e - b, path_, ": tensor '", name, "': shape ", shape_str(ti.shape), " x ", dt, " needs ", bytes,
             " bytes but data_offsets span ", e - b);
    ti.begin = size_t(b);
    ti.end = size_t(e);
    tensors_[name] = std::move(ti);
  }
  for (const auto& [name, ti] : tensors_) by_offset.push_back(&ti);
  std::sort(by_offset.begin(), by_offset.end(), [](const TensorInfo* a, const TensorInfo* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  // Compare each tensor with the furthest-reaching non-empty one before it: empty
  // tensors occupy no bytes, so they must neither clash nor hide a clash.
  const TensorInfo* reach = nullptr;
  for (const TensorInfo* c : by_offset) {
    if (c->end == c->begin) continue;
    IA_CHECK(!reach || c->begin >= reach->end, path_, ": tensors '", reach->name, "' and '", c->name,
             "' overlap in the data section");
    if (!reach || c->end > reach->end) reach = c;
  }
}

const TensorInfo& SafetensorsFile::info(const std::string& name) const {
  auto it = tensors_.find(name);
  IA_CHECK(it != tensors_.end(), path_, ": no tensor named '", name, "'");
  return it->second;
}

size_t SafetensorsFile::huge_page_bytes() const {
  return map_ ? smaps_bytes(base_, size_, "FilePmdMapped") : 0;
}

namespace {
volatile uint64_t g_touch_sink = 0;  // keeps the touching reads from being optimised away

// Touches one byte per 4 KiB page of [p, p + n) over the threads (faults the range in).
void touch_pages(const unsigned char* p, size_t n) {
  const int64_t pages = int64_t((n + 4095) / 4096);
  uint64_t acc = 0;
#pragma omp parallel for schedule(static) reduction(+ : acc)
  for (int64_t i = 0; i < pages; ++i) acc += p[size_t(i) * 4096];
  g_touch_sink = g_touch_sink + acc;
}
}  // namespace

size_t SafetensorsFile::use_huge_pages() {
  if (!map_) return 0;
  auto* p = const_cast<unsigned char*>(base_);
  const size_t whole = size_ / kHugePageBytes * kHugePageBytes;  // the tail cannot fill a huge page
  if (whole == 0 || ::madvise(p, size_, MADV_HUGEPAGE) != 0) return 0;
  touch_pages(base_, size_);
  // Where the page cache holds this file in small folios (it was read or written before
  // with 4 KiB folios, or reclaimed and read back so), the mapping stays in 4 KiB pages.
  // Pages read through a huge-page mapping come back as 2 MiB folios, so drop those
  // windows' pages (this mapping's and the file's clean cached ones) and fault them back:
  // one read from disk, after which every later load maps 2 MiB pages at once. The first
  // 32 MiB go first: a filesystem without large folios only re-reads that much.
  std::vector<std::pair<size_t, size_t>> windows;  // 2 MiB-aligned [begin, end) to refault
  if (auto small = small_page_ranges(base_, whole)) {
    for (auto [b, e] : *small) {
      b = b / kHugePageBytes * kHugePageBytes;
      e = std::min(whole, (e + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes);
      if (!windows.empty() && windows.back().second >= b) windows.back().second = std::max(windows.back().second, e);
      else if (b < e) windows.emplace_back(b, e);
    }
  } else if (huge_page_bytes() < whole / 10 * 9) {
    // Without PAGEMAP_SCAN the kernel only says how much is mapped so, not where: re-read
    // the whole file when a tenth or more is in small pages (measured: a GPT-2 checkpoint
    // at 79% had some layers and part of its LM head entirely in small pages).
    windows.emplace_back(0, size_);
  }
  if (windows.empty()) return huge_page_bytes();
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return huge_page_bytes();
  auto refault = [&](size_t from, size_t len) {
    ::madvise(p + from, len, MADV_DONTNEED);  // private read-only mapping: drops PTEs only
    ::posix_fadvise(fd, off_t(from), off_t(len), POSIX_FADV_DONTNEED);
    touch_pages(base_ + from, len);
  };
  // Whether [b, e) now maps at least half through huge pages (without PAGEMAP_SCAN, the
  // smaps total of the whole mapping stands in: it is only asked in whole-file mode).
  auto mostly_huge = [&](size_t b, size_t e) {
    if (auto small = small_page_ranges(base_ + b, e - b)) {
      size_t bytes = 0;
      for (auto [x, y] : *small) bytes += y - x;
      return bytes <= (e - b) / 2;
    }
    return smaps_bytes(base_ + b, e - b, "FilePmdMapped") >= (e - b) / 2;
  };
  size_t done = 0;
  constexpr size_t kTrial = size_t(32) << 20;
  for (auto [b, e] : windows) {
    if (done < kTrial && done + (e - b) >= kTrial) {  // the trial: does this filesystem give 2 MiB folios?
      const size_t trial_end = b + (kTrial - done);
      refault(b, trial_end - b);
      if (!mostly_huge(b, trial_end)) break;
      if (e > trial_end) refault(trial_end, e - trial_end);
    } else {
      refault(b, e - b);
    }
    done += e - b;
  }
  ::close(fd);
  return huge_page_bytes();
}

Tensor SafetensorsFile::tensor(const std::string& name) const {
  const TensorInfo& ti = info(name);
  const unsigned char* p = base_ + data_start_ + ti.begin;
  size_t align = dtype_size(ti.dtype);
  if (reinterpret_cast<uintptr_t>(p) % align == 0) {
    auto self = self_.lock();
    return Tensor::view(ti.dtype, ti.shape, p, std::shared_ptr<const void>(self, p));
  }
  Tensor t = Tensor::empty(ti.dtype, ti.shape);
  if (ti.end > ti.begin) std::memcpy(t.raw(), p, ti.end - ti.begin);
  return t;
}

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  size_t off = 0;
  for (const auto& [name, t] : tensors) {
    header[name] = {{"dtype", dtype_name(t.dtype())}, {"shape", t.shape()}, {"data_offsets", {off, off + t.nbytes()}}};
    off += t.nbytes();
  }
  std::string h = header.dump();
  while ((8 + h.size()) % 8) h.push_back(' ');
  std::ofstream out(path, std::ios::binary);
  IA_CHECK(out.good(), path, ": cannot open for writing");
  uint64_t n = h.size();
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = (n >> (8 * i)) & 0xff;
  out.write(reinterpret_cast<const char*>(len), 8);
  out.write(h.data(), std::streamsize(h.size()));
  for (const auto& [name, t] : tensors) out.write(static_cast<const char*>(t.raw()), std::streamsize(t.nbytes()));
  IA_CHECK(out.good(), path, ": write failed");
}

}  // namespace ia
