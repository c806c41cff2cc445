// How a loaded model's memory-mapped weights are paged (zero-copy either way):
//   mmap       the page cache as the kernel holds it (usually 4 KiB pages);
//   hugepages  the mapping advised MADV_HUGEPAGE and mapped through 2 MiB page-cache folios,
//              so the per-token weight stream of decode is not slowed by TLB misses
//              (core/huge_pages.h). A file cached in small pages is re-read once from disk
//              to get there (SafetensorsFile::use_huge_pages);
//   auto       hugepages for large checkpoints when the kernel has transparent huge pages.
#pragma once
#include <cstddef>
#include <string>

namespace ia {

class Checkpoint;

enum class WeightPlacement { Auto, Mmap, HugePages };

const char* placement_name(WeightPlacement p);
// "auto" | "mmap" | "hugepages"; anything else is an error naming `what` (e.g. "--weights").
WeightPlacement parse_placement(const std::string& s, const std::string& what);

// Process-wide default for models loaded from now on. Starts from the environment
// variable IA_WEIGHTS (auto when unset); the CLI's --weights sets it.
WeightPlacement default_placement();
void set_default_placement(WeightPlacement p);

// Auto's rule: huge pages for checkpoints of at least kHugePagesMinBytes (smaller ones
// fit the TLB's reach, and faulting them in at load would cost more than it saves) when
// the kernel's transparent huge pages are "always" or "madvise".
constexpr size_t kHugePagesMinBytes = size_t(64) << 20;
WeightPlacement choose_placement(WeightPlacement requested, size_t weight_bytes, const std::string& thp_mode);

// Applies `requested` (resolved with choose_placement against this machine) to every
// file of `ck`; returns the placement used.
WeightPlacement place_weights(Checkpoint& ck, WeightPlacement requested);

}  // namespace ia
