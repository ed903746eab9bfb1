#include "intake/sync_waiters.h"

#include <gtest/gtest.h>

using namespace enconvert::intake;
using clock_type = std::chrono::steady_clock;

TEST(SyncWaiters, TakeReturnsAllWaitersOfAJob) {
    SyncWaiters w;
    const auto later = clock_type::now() + std::chrono::seconds(60);
    w.add("job_a", Waiter{"id1", 1, 10, false, false, later});
    w.add("job_a", Waiter{"id2", 2, 10, true, false, later});
    w.add("job_b", Waiter{"id1", 3, 10, false, false, later});
    EXPECT_TRUE(w.contains("job_a"));
    const auto a = w.take("job_a");
    ASSERT_EQ(a.size(), 2u);
    EXPECT_EQ(a[1].request_id, 2u);
    EXPECT_FALSE(w.contains("job_a"));
    EXPECT_TRUE(w.take("job_a").empty());
    EXPECT_EQ(w.job_ids(), std::vector<std::string>{"job_b"});
}

TEST(SyncWaiters, ExpireDropsOnlyPastDeadline) {
    SyncWaiters w;
    const auto now = clock_type::now();
    w.add("job_a", Waiter{"id1", 1, 10, false, false, now - std::chrono::seconds(1)});
    w.add("job_b", Waiter{"id1", 2, 10, false, false, now + std::chrono::seconds(60)});
    EXPECT_EQ(w.expire(now), 1u);
    EXPECT_FALSE(w.contains("job_a"));
    EXPECT_TRUE(w.contains("job_b"));
}
