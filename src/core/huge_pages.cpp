#include "core/huge_pages.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <istream>
#include <sstream>

#include "core/error.h"

namespace ia {

std::string thp_mode() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  if (!std::getline(in, line)) return "";
  // The active mode is bracketed: "always [madvise] never".
  const size_t a = line.find('['), b = line.find(']');
  return a != std::string::npos && b != std::string::npos && b > a ? line.substr(a + 1, b - a - 1) : "";
}

HugePageBuffer::HugePageBuffer(size_t bytes, const std::string& what) {
  size_ = bytes;
  const size_t len = (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  map_len_ = len + kHugePageBytes;  // slack to align the start to 2 MiB
  void* m = ::mmap(nullptr, map_len_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  IA_CHECK(m != MAP_FAILED, what, ": cannot allocate ", bytes, " bytes: ", std::strerror(errno));
  map_ = m;
  data_ = reinterpret_cast<unsigned char*>((reinterpret_cast<uintptr_t>(m) + kHugePageBytes - 1) & ~(kHugePageBytes - 1));
  // Advice only: without transparent huge pages the buffer still works, in 4 KiB pages.
  (void)::madvise(data_, len, MADV_HUGEPAGE);
}

HugePageBuffer::~HugePageBuffer() { release(); }

HugePageBuffer::HugePageBuffer(HugePageBuffer&& o) noexcept { *this = std::move(o); }

HugePageBuffer& HugePageBuffer::operator=(HugePageBuffer&& o) noexcept {
  if (this != &o) {
    release();
    map_ = o.map_;
    map_len_ = o.map_len_;
    data_ = o.data_;
    size_ = o.size_;
    o.map_ = nullptr;
    o.data_ = nullptr;
    o.map_len_ = o.size_ = 0;
  }
  return *this;
}

void HugePageBuffer::release() {
  if (map_) ::munmap(map_, map_len_);
  map_ = nullptr;
  data_ = nullptr;
}

size_t smaps_bytes(const void* p, size_t bytes, const std::string& field) {
  if (!p || bytes == 0) return 0;
  std::ifstream in("/proc/self/smaps");
  const uintptr_t lo = reinterpret_cast<uintptr_t>(p);
  return smaps_bytes_in(in, lo, lo + bytes, field);
}

size_t smaps_bytes_in(std::istream& in, uintptr_t lo, uintptr_t hi, const std::string& field) {
  // smaps lists each mapping as "start-end perms ..." followed by "Key:   value kB" lines;
  // one reservation may be split into several mappings (alignment slack, huge/small runs).
  const std::string key = field + ":";
  std::string line;
  bool inside = false;
  size_t total = 0;
  while (std::getline(in, line)) {
    const size_t space = line.find(' '), dash = line.find('-');
    if (dash != std::string::npos && dash < space && line.find(':') > space) {  // a mapping's header line
      uintptr_t a = 0, b = 0;
      char sep = 0;
      std::istringstream r(line.substr(0, space));
      r >> std::hex >> a >> sep >> b;
      inside = r && sep == '-' && a < hi && b > lo;
    } else if (inside && line.compare(0, key.size(), key) == 0) {
      std::istringstream r(line.substr(key.size()));
      size_t kb = 0;
      if (r >> kb) total += kb * 1024;
    }
  }
  return total;
}

namespace {

// The PAGEMAP_SCAN ABI (include/uapi/linux/fs.h, Linux 6.7), spelled out here because
// the build machine's kernel headers may predate it; the kernel checks `size`.
struct PageRegion {
  uint64_t start, end, categories;
};
struct PmScanArg {
  uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
  uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
constexpr uint64_t kPageIsHuge = uint64_t(1) << 6;
constexpr unsigned long kPagemapScan = _IOWR('f', 16, PmScanArg);

}  // namespace

std::optional<std::vector<std::pair<size_t, size_t>>> small_page_ranges(const void* p, size_t bytes) {
  std::vector<std::pair<size_t, size_t>> out;
  if (!p || bytes == 0) return out;
  const int fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  const uint64_t lo = reinterpret_cast<uintptr_t>(p), hi = lo + bytes;
  PageRegion regions[256];
  uint64_t at = lo;
  bool ok = true;
  while (at < hi) {
    PmScanArg arg{};
    arg.size = sizeof(arg);
    arg.start = at;
    arg.end = hi;
    arg.vec = reinterpret_cast<uintptr_t>(regions);
    arg.vec_len = sizeof(regions) / sizeof(regions[0]);
    arg.category_inverted = kPageIsHuge;  // match pages whose "huge" bit is 0
    arg.category_mask = kPageIsHuge;
    arg.return_mask = kPageIsHuge;
    const long n = ::ioctl(fd, kPagemapScan, &arg);
    if (n < 0 || arg.walk_end <= at) {
      ok = false;
      break;
    }
    for (long i = 0; i < n; ++i) {
      const size_t b = size_t(regions[i].start - lo), e = size_t(regions[i].end - lo);
      if (!out.empty() && out.back().second == b) out.back().second = e;
      else out.emplace_back(b, e);
    }
    at = arg.walk_end;
  }
  ::close(fd);
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace ia
