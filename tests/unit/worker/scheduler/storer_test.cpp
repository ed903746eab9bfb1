#include "scheduler/storer.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <chrono>
#include <thread>

using namespace enconvert;

namespace {

db::TaskOutcome outcome(std::int64_t id) {
    db::TaskOutcome o;
    o.task_id = id;
    o.ok = true;
    return o;
}

// Waits (bounded) until the storer's fd says outcomes are there.
bool readable(int fd, int timeout_ms = 5000) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1;
}

// Two jobs submitted: the first (outcome 1) in hand once constructed, held
// until `release`; the second (outcome 2) queued behind it. `ran` counts
// the jobs that ran to their end.
struct BlockedJobs {
    std::atomic<bool> started{false};
    std::atomic<bool> release{false};
    std::atomic<int> ran{0};

    explicit BlockedJobs(scheduler::Storer& storer) {
        storer.submit([this] {
            started = true;
            while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            ++ran;
            return outcome(1);
        });
        storer.submit([this] {
            ++ran;
            return outcome(2);
        });
        while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
};

}  // namespace

TEST(Storer, RunsJobsInOrderAndWakesThePoller) {
    scheduler::Storer storer;
    EXPECT_FALSE(readable(storer.wake_fd(), 0));
    EXPECT_TRUE(storer.take_done().empty());
    for (int id : {1, 2, 3}) storer.submit([id] { return outcome(id); });
    std::vector<std::int64_t> ids;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (ids.size() < 3 && std::chrono::steady_clock::now() < deadline) {
        ASSERT_TRUE(readable(storer.wake_fd()));
        for (const auto& o : storer.take_done()) ids.push_back(o.task_id);
    }
    EXPECT_EQ(ids, (std::vector<std::int64_t>{1, 2, 3}));
    EXPECT_FALSE(readable(storer.wake_fd(), 0));  // drained
}

// The scheduler sleeps on wake_fd(): a signal left behind after the outcomes
// were taken wakes it for nothing, and the fd must say what take_done() will
// give. Outcomes finishing while one is taken are where that broke (the
// counter was drained before the lock, so an outcome pushed in between was
// taken with the earlier ones and its signal stayed).
TEST(Storer, TheFdIsDrainedWhenEveryOutcomeIsTaken) {
    scheduler::Storer storer;
    for (int round = 0; round < 2000; ++round) {
        for (int id : {1, 2, 3, 4}) storer.submit([id] { return outcome(id); });
        std::size_t taken = 0;
        while (taken < 4) {
            ASSERT_TRUE(readable(storer.wake_fd())) << "round " << round;
            taken += storer.take_done().size();
        }
        ASSERT_FALSE(readable(storer.wake_fd(), 0)) << "round " << round;
    }
}

TEST(Storer, StopFinishesTheJobInHandAndDropsTheRest) {
    scheduler::Storer storer;
    BlockedJobs jobs(storer);
    std::atomic<bool>& release = jobs.release;
    std::atomic<int>& ran = jobs.ran;
    std::thread stopper([&] { storer.stop(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    release = true;
    stopper.join();
    EXPECT_EQ(ran.load(), 1);
    const auto done = storer.take_done();
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].task_id, 1);
    storer.stop();  // idempotent
}

// A stopping scheduler renews its leases while the job in hand finishes:
// drop_queued() says whether one is (and drops the rest), wake_fd() when
// it is done.
TEST(Storer, DropQueuedSaysWhileAJobIsInHand) {
    scheduler::Storer storer;
    EXPECT_FALSE(storer.drop_queued());
    BlockedJobs jobs(storer);
    std::atomic<bool>& release = jobs.release;
    std::atomic<int>& ran = jobs.ran;
    EXPECT_TRUE(storer.drop_queued());
    EXPECT_FALSE(readable(storer.wake_fd(), 0));
    release = true;
    ASSERT_TRUE(readable(storer.wake_fd()));
    EXPECT_FALSE(storer.drop_queued());
    const auto done = storer.take_done();
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].task_id, 1);
    storer.stop();
    EXPECT_EQ(ran.load(), 1);  // the dropped job never ran
}
