// The tests' scratch directories (tests/unit/scratch_dir.h) must leave nothing in
// the temp dir: removed on scope exit, ownership kept through moves, and one flat
// directory even for parameterised tests, whose names contain '/'.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include "scratch_dir.h"

namespace fs = std::filesystem;
using ia::test::ScratchDir;

TEST(ScratchDir, IsRemovedWithEverythingInIt) {
  fs::path p;
  {
    ScratchDir d("tag");
    p = d.path();
    EXPECT_EQ(p.parent_path(), fs::temp_directory_path());
    EXPECT_NE(p.filename().string().find("ScratchDir_IsRemovedWithEverythingInIt_tag_"), std::string::npos) << p;
    d.write("a.txt", "x");
    fs::create_directories(p / "sub" / "deeper");
    std::ofstream(p / "sub" / "deeper" / "b.bin") << "y";
    EXPECT_TRUE(fs::exists(d.file("a.txt")));
  }
  EXPECT_FALSE(fs::exists(p));
}

TEST(ScratchDir, MovesKeepOneOwnerAndTwoAreDistinct) {
  fs::path p;
  {
    ScratchDir a, b;
    EXPECT_NE(a.path(), b.path());
    p = a.path();
    ScratchDir moved = std::move(a);
    EXPECT_EQ(moved.path(), p);
    EXPECT_TRUE(a.path().empty());  // NOLINT(bugprone-use-after-move): the moved-from object owns nothing
    const fs::path b_own = b.path();
    b = std::move(moved);  // b's own directory goes now
    EXPECT_FALSE(fs::exists(b_own));
    EXPECT_EQ(b.path(), p);
    EXPECT_TRUE(fs::exists(p));
  }
  EXPECT_FALSE(fs::exists(p));
}

class ScratchDirParam : public ::testing::TestWithParam<int> {};

TEST_P(ScratchDirParam, ParameterisedNamesStayOneDirectory) {
  fs::path p;
  {
    ScratchDir d;
    p = d.path();
    EXPECT_EQ(p.parent_path(), fs::temp_directory_path()) << p;
  }
  EXPECT_FALSE(fs::exists(p));
}

INSTANTIATE_TEST_SUITE_P(Prefix, ScratchDirParam, ::testing::Values(1));
