#include "util/record_queue.h"

#include <gtest/gtest.h>

#include <vector>

using enconvert::util::RecordQueue;
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

RecordQueue<int> queue_of(std::initializer_list<int> entries) {
    RecordQueue<int> q;
    for (int e : entries) q.push(e);
    return q;
}

std::vector<int> entries(const RecordQueue<int>& q) {
    std::vector<int> out;
    q.for_each([&](int e) { out.push_back(e); });
    return out;
}

bool connected() {
    return true;
}

}  // namespace

TEST(RecordQueue, ARefusedEntryHoldsUpNoneOfTheOthers) {
    auto q = queue_of({1, 2, 3});
    Server server{1, {}};
    q.pass(connected, std::ref(server));
    EXPECT_EQ(server.seen, (std::vector<int>{1, 2, 3}));
    EXPECT_EQ(entries(q), (std::vector<int>{1}));
}

// A refusal can take a whole statement_timeout (a row locked elsewhere):
// entries that came after it are recorded at once, the refused one waits
// for the back-off and is not tried before them.
TEST(RecordQueue, NewEntriesAreRecordedBeforeAndWithoutWaitingForARefusedOne) {
    auto q = queue_of({1});
    Server server{1, {}};
    q.pass(connected, std::ref(server));
    q.push(2);
    q.pass(connected, std::ref(server));
    EXPECT_EQ(server.seen, (std::vector<int>{1, 2}));  // 1 not again inside the back-off
    EXPECT_EQ(entries(q), (std::vector<int>{1}));
    q.push(3);
    q.retry_refused_now();
    q.pass(connected, std::ref(server));
    EXPECT_EQ(server.seen, (std::vector<int>{1, 2, 3, 1}));  // the new one first
}

TEST(RecordQueue, ARefusedEntryIsTriedAgainOnceTheBackOffAllows) {
    auto q = queue_of({1});
    Server server{1, {}};
    q.pass(connected, std::ref(server));
    q.pass(connected, std::ref(server));
    EXPECT_EQ(server.seen.size(), 1u);  // the second pass came before the back-off ended
    q.retry_refused_now();              // what a stop does: one pass whatever the back-off
    server.refused = -1;
    q.pass(connected, std::ref(server));
    EXPECT_TRUE(q.empty());
}

TEST(RecordQueue, ALostConnectionEndsThePassWithTheEntryKept) {
    auto q = queue_of({1, 2});
    int calls = 0;
    q.pass(connected, [&](int) {
        ++calls;
        return RecordStep::kept;
    });
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(entries(q), (std::vector<int>{1, 2}));

    // A refused entry the connection is lost under stays first among the
    // refused.
    auto r = queue_of({1, 2});
    r.pass(connected, [](int) { return RecordStep::refused; });
    r.retry_refused_now();
    calls = 0;
    r.pass(connected, [&](int) {
        ++calls;
        return RecordStep::kept;
    });
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(entries(r), (std::vector<int>{1, 2}));
}

TEST(RecordQueue, DroppedEntriesLeaveAndNothingIsTriedWithoutAConnection) {
    auto q = queue_of({1, 2});
    q.pass(connected, [](int) { return RecordStep::dropped; });
    EXPECT_TRUE(q.empty());
    auto r = queue_of({1});
    int calls = 0;
    r.pass([] { return false; },
           [&](int) {
               ++calls;
               return RecordStep::recorded;
           });
    EXPECT_EQ(calls, 0);
    EXPECT_EQ(r.size(), 1u);
}
