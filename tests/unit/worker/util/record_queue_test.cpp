#include "util/record_queue.h"

#include <gtest/gtest.h>

#include <vector>

using enconvert::util::Backoff;
using enconvert::util::record_pass;
using enconvert::util::RecordStep;

namespace {

// Records every entry but `refused`, which the server refuses.
struct Server {
    int refused = -1;
    std::vector<int> seen;
    RecordStep operator()(int v) {
        seen.push_back(v);
        return v == refused ? RecordStep::refused : RecordStep::recorded;
    }
};

}  // namespace

TEST(RecordQueue, ARefusedEntryGoesBehindTheOthers) {
    std::deque<int> q{1, 2, 3};
    Backoff refusals;
    Server server{1, {}};
    record_pass(
        q, refusals, [] { return true; }, std::ref(server));
    EXPECT_EQ(server.seen, (std::vector<int>{1, 2, 3}));
    EXPECT_EQ(q, (std::deque<int>{1}));
}

TEST(RecordQueue, APassAfterARefusalWaitsForTheBackOff) {
    std::deque<int> q{1};
    Backoff refusals;
    Server server{1, {}};
    record_pass(
        q, refusals, [] { return true; }, std::ref(server));
    record_pass(
        q, refusals, [] { return true; }, std::ref(server));
    EXPECT_EQ(server.seen.size(), 1u);  // the second pass came before the back-off ended
    EXPECT_FALSE(refusals.due(Backoff::clock::now()));
    refusals.succeeded();  // what a stop does: one pass whatever the back-off
    server.refused = -1;
    record_pass(
        q, refusals, [] { return true; }, std::ref(server));
    EXPECT_TRUE(q.empty());
}

TEST(RecordQueue, ALostConnectionEndsThePassWithTheEntryFirst) {
    std::deque<int> q{1, 2};
    Backoff refusals;
    int calls = 0;
    record_pass(
        q, refusals, [] { return true; },
        [&](int) {
            ++calls;
            return RecordStep::kept;
        });
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(q, (std::deque<int>{1, 2}));
    EXPECT_TRUE(refusals.due(Backoff::clock::now()));  // reconnecting has its own back-off
}

TEST(RecordQueue, DroppedEntriesLeaveAndNothingIsTriedWithoutAConnection) {
    std::deque<int> q{1, 2};
    Backoff refusals;
    record_pass(
        q, refusals, [] { return true; }, [](int) { return RecordStep::dropped; });
    EXPECT_TRUE(q.empty());
    std::deque<int> r{1};
    int calls = 0;
    record_pass(
        r, refusals, [] { return false; },
        [&](int) {
            ++calls;
            return RecordStep::recorded;
        });
    EXPECT_EQ(calls, 0);
    EXPECT_EQ(r.size(), 1u);
}
