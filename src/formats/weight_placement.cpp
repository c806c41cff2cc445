#include "formats/weight_placement.h"

#include <cstdlib>

#include "core/error.h"
#include "core/huge_pages.h"
#include "formats/checkpoint.h"

namespace ia {

namespace {
WeightPlacement& current() {
  static WeightPlacement p = [] {
    const char* env = std::getenv("IA_WEIGHTS");
    return env && *env ? parse_placement(env, "IA_WEIGHTS") : WeightPlacement::Auto;
  }();
  return p;
}
}  // namespace

const char* placement_name(WeightPlacement p) {
  switch (p) {
    case WeightPlacement::Mmap: return "mmap";
    case WeightPlacement::HugePages: return "hugepages";
    default: return "auto";
  }
}

WeightPlacement parse_placement(const std::string& s, const std::string& what) {
  if (s == "auto") return WeightPlacement::Auto;
  if (s == "mmap") return WeightPlacement::Mmap;
  if (s == "hugepages") return WeightPlacement::HugePages;
  fail(what, ": unknown weight placement '", s, "' (expected auto, mmap or hugepages)");
}

WeightPlacement default_placement() { return current(); }
void set_default_placement(WeightPlacement p) { current() = p; }

WeightPlacement choose_placement(WeightPlacement requested, size_t weight_bytes, const std::string& thp_mode) {
  if (requested != WeightPlacement::Auto) return requested;
  const bool thp = thp_mode == "always" || thp_mode == "madvise";
  return thp && weight_bytes >= kHugePagesMinBytes ? WeightPlacement::HugePages : WeightPlacement::Mmap;
}

WeightPlacement place_weights(Checkpoint& ck, WeightPlacement requested) {
  size_t bytes = 0;
  for (const auto& f : ck.files()) bytes += f->size();
  const WeightPlacement p = choose_placement(requested, bytes, requested == WeightPlacement::Auto ? thp_mode() : "");
  if (p == WeightPlacement::HugePages)
    for (const auto& f : ck.files()) f->use_huge_pages();
  return p;
}

}  // namespace ia
