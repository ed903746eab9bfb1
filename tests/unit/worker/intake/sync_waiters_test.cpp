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
    ASSERT_EQ(a.size(), 2u);  // two groups: direct_download differs
    EXPECT_EQ(a[1].waiters.at(0).request_id, 2u);
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

// A client retrying a sync request with one Idempotency-Key adds a waiter
// each time; they wait for the same answer, so the job is read once for
// them all (it was read once per waiter, one after the other on the loop).
TEST(SyncWaiters, WaitersForTheSameAnswerAreTakenAsOneGroup) {
    SyncWaiters w;
    const auto later = clock_type::now() + std::chrono::seconds(60);
    for (std::uint64_t id = 1; id <= 50; ++id)
        w.add("job_a", Waiter{"nginx-1", id, 10, false, false, later});
    w.add("job_a", Waiter{"nginx-2", 51, 10, true, false, later});
    w.add("job_a", Waiter{"nginx-2", 52, 10, false, false, later});
    const auto groups = w.take("job_a");
    ASSERT_EQ(groups.size(), 2u);
    EXPECT_EQ(groups[0].account_id, 10);
    EXPECT_FALSE(groups[0].direct_download);
    ASSERT_EQ(groups[0].waiters.size(), 51u);
    EXPECT_EQ(groups[0].waiters.front().request_id, 1u);
    EXPECT_EQ(groups[0].waiters.back().request_id, 52u);
    EXPECT_TRUE(groups[1].direct_download);
    ASSERT_EQ(groups[1].waiters.size(), 1u);
    EXPECT_EQ(groups[1].waiters[0].request_id, 51u);
}
