#include "render_child/log_budget.h"

#include <gtest/gtest.h>

#include <chrono>

namespace enconvert::render_child {
namespace {

using namespace std::chrono_literals;

const LogBudget::Clock::time_point t0{};

TEST(LogBudgetTest, ABurstIsAdmittedWhole) {
    LogBudget budget(1000, 100, t0);
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(budget.admit(100, t0)) << i;
    EXPECT_FALSE(budget.admit(100, t0));
    EXPECT_FALSE(budget.admit(1, t0));
    const LogBudget::Dropped dropped = budget.take_dropped();
    EXPECT_EQ(dropped.lines, 2u);
    EXPECT_EQ(dropped.bytes, 101u);
}

TEST(LogBudgetTest, RefillsAtTheSteadyRate) {
    LogBudget budget(1000, 100, t0);
    ASSERT_TRUE(budget.admit(1000, t0));
    EXPECT_FALSE(budget.admit(60, t0 + 500ms));  // 50 bytes back
    EXPECT_TRUE(budget.admit(50, t0 + 500ms));
    EXPECT_TRUE(budget.admit(100, t0 + 1500ms));
    EXPECT_FALSE(budget.admit(1, t0 + 1500ms));
}

TEST(LogBudgetTest, AQuietSpellRefillsNoMoreThanTheBurst) {
    LogBudget budget(1000, 100, t0);
    ASSERT_TRUE(budget.admit(1000, t0));
    EXPECT_TRUE(budget.admit(1000, t0 + 1h));
    EXPECT_FALSE(budget.admit(1, t0 + 1h));
}

TEST(LogBudgetTest, TakingTheDroppedCountResetsIt) {
    LogBudget budget(10, 1, t0);
    EXPECT_FALSE(budget.dropped_any());
    EXPECT_FALSE(budget.admit(11, t0));
    EXPECT_TRUE(budget.dropped_any());
    EXPECT_EQ(budget.take_dropped().lines, 1u);
    EXPECT_FALSE(budget.dropped_any());
    const LogBudget::Dropped again = budget.take_dropped();
    EXPECT_EQ(again.lines, 0u);
    EXPECT_EQ(again.bytes, 0u);
}

}  // namespace
}  // namespace enconvert::render_child
