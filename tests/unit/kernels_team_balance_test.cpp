// TeamBalance: the column shares of a decode step's threads follow their measured speeds.
#include <gtest/gtest.h>

#include <vector>

#include "backends/cpu/kernels.h"
#include "backends/cpu/team_balance.h"

using ia::cpu::TeamBalance;

namespace {

// The columns each thread gets must tile [0, total) in order, on 16-column steps.
void expect_tiles(const TeamBalance& b, int64_t total) {
  int64_t next = 0;
  for (int t = 0; t < b.threads(); ++t) {
    int64_t c0, c1;
    b.split(total, t, &c0, &c1);
    EXPECT_EQ(c0, next) << "thread " << t << " of total " << total;
    EXPECT_LE(c0, c1);
    if (t + 1 < b.threads()) EXPECT_EQ(c1 % 16, 0) << "inner boundary on a 64-byte step";
    next = c1;
  }
  EXPECT_EQ(next, total);
}

}  // namespace

TEST(TeamBalance, EvenSharesSplitLikeSplitCols) {
  for (int T : {1, 2, 3, 4}) {
    TeamBalance b;
    b.reset(T);
    for (int64_t total : {0, 5, 16, 768, 2048, 5632, 11264}) {
      expect_tiles(b, total);
      for (int t = 0; t < T; ++t) {
        int64_t a0, a1, e0, e1;
        b.split(total, t, &a0, &a1);
        ia::cpu::split_cols(total, t, T, &e0, &e1);
        EXPECT_NEAR(double(a1 - a0), double(e1 - e0), 16) << "T=" << T << " total=" << total;
      }
    }
  }
}

TEST(TeamBalance, SharesMoveTowardTheFasterThreadAndSettle) {
  TeamBalance b;
  b.reset(2);
  // Thread 1 takes 1.3x as long per column; the fixed work (norms, attention) is split evenly.
  const double cost[2] = {1.0, 1.3}, fixed = 0.2;
  double busy[2];
  for (int step = 0; step < 200; ++step) {
    for (int t = 0; t < 2; ++t) busy[t] = cost[t] * (fixed / 2 + (1 - fixed) * b.shares()[size_t(t)]);
    b.update(busy);
  }
  EXPECT_GT(b.shares()[0], 0.55);
  for (int t = 0; t < 2; ++t) busy[t] = cost[t] * (fixed / 2 + (1 - fixed) * b.shares()[size_t(t)]);
  EXPECT_NEAR(busy[0], busy[1], 0.01 * busy[0]) << "both threads reach the barriers together";
  expect_tiles(b, 5632);
}

TEST(TeamBalance, OneSlowStepMovesTheSharesOnlyALittle) {
  TeamBalance b;
  b.reset(2);
  const double busy[2] = {0.01, 10.0};  // thread 1 descheduled for a whole step
  b.update(busy);
  EXPECT_NEAR(b.shares()[0], 0.5 + TeamBalance::kMaxStep, 1e-12);
  for (int i = 0; i < 1000; ++i) b.update(busy);
  EXPECT_NEAR(b.shares()[0], TeamBalance::kMaxShare / 2, 1e-9) << "clamped at 1.5x an even share";
  expect_tiles(b, 768);
}

TEST(TeamBalance, IgnoresUnusableTimingsAndFixedShares) {
  TeamBalance b;
  b.reset(3);
  const double zero[3] = {0.0, 1.0, 1.0};
  b.update(zero);
  for (double s : b.shares()) EXPECT_DOUBLE_EQ(s, 1.0 / 3);
  b.set_shares({1, 1, 2});
  EXPECT_NEAR(b.shares()[2], 0.5, 1e-12);
  b.set_adapt(false);
  const double skewed[3] = {1.0, 1.0, 5.0};
  b.update(skewed);
  EXPECT_NEAR(b.shares()[2], 0.5, 1e-12) << "fixed shares do not move";
  b.set_shares({1, 0, 0});  // clamped: no thread gets less than half an even share
  for (double s : b.shares()) EXPECT_GE(s, TeamBalance::kMinShare / 3 - 1e-12);
  expect_tiles(b, 100);
}
