// Weight placement: the auto rule, option parsing, smaps accounting, and that moving a
// mapped checkpoint onto 2 MiB pages keeps every byte and every view valid.
#include <gtest/gtest.h>

#include <sys/mman.h>
#include <sys/utsname.h>

#include <cstdio>
#include <cstring>
#include <sstream>
#include <vector>

#include "core/huge_pages.h"
#include "formats/checkpoint.h"
#include "formats/weight_placement.h"
#include "formats_test_util.h"

namespace ia {
namespace {

using test::expect_error;
using test::ScratchDir;

TEST(FormatsPlacement, AutoPicksHugePagesOnlyForLargeCheckpointsWithThp) {
  const size_t big = kHugePagesMinBytes, small = kHugePagesMinBytes - 1;
  EXPECT_EQ(choose_placement(WeightPlacement::Auto, big, "madvise"), WeightPlacement::HugePages);
  EXPECT_EQ(choose_placement(WeightPlacement::Auto, big, "always"), WeightPlacement::HugePages);
  EXPECT_EQ(choose_placement(WeightPlacement::Auto, big, "never"), WeightPlacement::Mmap);
  EXPECT_EQ(choose_placement(WeightPlacement::Auto, big, ""), WeightPlacement::Mmap);
  EXPECT_EQ(choose_placement(WeightPlacement::Auto, small, "always"), WeightPlacement::Mmap);
  // An explicit choice is never overridden.
  EXPECT_EQ(choose_placement(WeightPlacement::HugePages, 1, "never"), WeightPlacement::HugePages);
  EXPECT_EQ(choose_placement(WeightPlacement::Mmap, big, "always"), WeightPlacement::Mmap);
}

TEST(FormatsPlacement, ParsesNamesAndRejectsOthers) {
  for (auto p : {WeightPlacement::Auto, WeightPlacement::Mmap, WeightPlacement::HugePages})
    EXPECT_EQ(parse_placement(placement_name(p), "--weights"), p);
  expect_error([] { parse_placement("huge", "IA_WEIGHTS"); }, {"IA_WEIGHTS", "'huge'", "auto, mmap or hugepages"});
}

TEST(FormatsPlacement, SmapsAccountingSumsOnlyOverlappingMappings) {
  std::istringstream smaps(
      "7f0000000000-7f0000400000 r--p 00000000 fd:00 123 /models/a.safetensors\n"
      "Size:               4096 kB\n"
      "FilePmdMapped:      2048 kB\n"
      "AnonHugePages:         0 kB\n"
      "7f0000400000-7f0000600000 r--p 00400000 fd:00 123 /models/a-b.safetensors\n"
      "FilePmdMapped:      2048 kB\n"
      "7f0001000000-7f0001200000 rw-p 00000000 00:00 0\n"
      "FilePmdMapped:      2048 kB\n"
      "AnonHugePages:      2048 kB\n");
  EXPECT_EQ(smaps_bytes_in(smaps, 0x7f0000000000, 0x7f0000600000, "FilePmdMapped"), size_t(4096) << 10);
  smaps.clear();
  smaps.seekg(0);
  EXPECT_EQ(smaps_bytes_in(smaps, 0x7f0000100000, 0x7f0000200000, "FilePmdMapped"), size_t(2048) << 10);
  smaps.clear();
  smaps.seekg(0);
  EXPECT_EQ(smaps_bytes_in(smaps, 0x7f0001000000, 0x7f0001000001, "AnonHugePages"), size_t(2048) << 10);
  smaps.clear();
  smaps.seekg(0);
  EXPECT_EQ(smaps_bytes_in(smaps, 0x100, 0x200, "FilePmdMapped"), 0u);
}

TEST(FormatsPlacement, HugePageBufferIsAlignedAndWritable) {
  HugePageBuffer b(size_t(3) << 20, "test buffer");
  ASSERT_NE(b.data(), nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % kHugePageBytes, 0u);
  std::memset(b.data(), 7, b.size());
  EXPECT_EQ(b.data()[b.size() - 1], 7);
  EXPECT_LE(b.huge_bytes(), size_t(4) << 20);  // never more than the rounded-up buffer
}

// PAGEMAP_SCAN came with Linux 6.7; before it small_page_ranges() cannot tell.
bool kernel_has_pagemap_scan() {
  utsname u{};
  int major = 0, minor = 0;
  return uname(&u) == 0 && std::sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
         (major > 6 || (major == 6 && minor >= 7));
}

size_t total_bytes(const std::vector<std::pair<size_t, size_t>>& ranges, size_t limit) {
  size_t total = 0, last_end = 0;
  for (auto [b, e] : ranges) {
    EXPECT_LT(b, e);
    EXPECT_LE(e, limit);
    EXPECT_GE(b, last_end);  // in order and disjoint
    EXPECT_EQ(b % 4096, 0u);
    last_end = e;
    total += e - b;
  }
  return total;
}

TEST(FormatsPlacement, SmallPageRangesAgreeWithTheKernelsAccounting) {
  HugePageBuffer huge(size_t(8) << 20, "test buffer");
  std::memset(huge.data(), 1, huge.size());
  const auto in_huge = small_page_ranges(huge.data(), huge.size());
  ASSERT_EQ(in_huge.has_value(), kernel_has_pagemap_scan());
  if (!in_huge) return;  // older kernel: checked above that it says so instead of guessing
  // The smaps total of 2 MiB pages and the scan's 4 KiB-page ranges add up to the buffer.
  EXPECT_EQ(total_bytes(*in_huge, huge.size()) + huge.huge_bytes(), huge.size());

  // Memory advised against huge pages is small pages throughout, touched or not.
  const size_t n = size_t(4) << 20;
  void* m = ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(m, MAP_FAILED);
  ::madvise(m, n, MADV_NOHUGEPAGE);
  std::memset(m, 2, n / 2);
  const auto in_small = small_page_ranges(m, n);
  ASSERT_TRUE(in_small.has_value());
  ASSERT_EQ(in_small->size(), 1u);
  EXPECT_EQ((*in_small)[0], std::make_pair(size_t(0), n));
  ::munmap(m, n);
  EXPECT_TRUE(small_page_ranges(nullptr, 0).has_value());
}

// A 6 MiB checkpoint (three huge pages' worth) with a known pattern.
std::string write_pattern_checkpoint(const ScratchDir& dir) {
  const int64_t n = int64_t(6) << 18;  // 6 MiB of F32
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = float(i % 9973) * 0.5f;
  write_safetensors(dir.file("model.safetensors"), {{"w", Tensor::from_vector(v, {n})}});
  return dir.str();
}

TEST(FormatsPlacement, HugePagesKeepEveryByteAndEarlierViewsValid) {
  ScratchDir dir;
  auto ck = Checkpoint::open_dir(write_pattern_checkpoint(dir));
  const Tensor before = ck->get("w");  // a zero-copy view taken before the move
  EXPECT_EQ(reinterpret_cast<uintptr_t>(ck->files()[0]->image()) % kHugePageBytes, 0u);
  EXPECT_EQ(place_weights(*ck, WeightPlacement::HugePages), WeightPlacement::HugePages);
  const Tensor after = ck->get("w");
  ASSERT_EQ(before.numel(), after.numel());
  EXPECT_EQ(before.raw(), after.raw());  // same address: nothing was copied
  for (int64_t i = 0; i < after.numel(); i += 4099) ASSERT_EQ(after.f32()[i], float(i % 9973) * 0.5f) << i;
  EXPECT_LE(ck->files()[0]->huge_page_bytes(), ck->files()[0]->size() + kHugePageBytes);
}

TEST(FormatsPlacement, MmapLeavesTheMappingAlone) {
  ScratchDir dir;
  auto ck = Checkpoint::open_dir(write_pattern_checkpoint(dir));
  EXPECT_EQ(place_weights(*ck, WeightPlacement::Mmap), WeightPlacement::Mmap);
  EXPECT_EQ(ck->get("w").f32()[9973 + 5], 2.5f);
}

}  // namespace
}  // namespace ia
