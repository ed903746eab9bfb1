#include "render_child/oom_priority.h"

#include <gtest/gtest.h>

#include <fstream>

namespace enconvert::render_child {
namespace {

int own_oom_score_adj() {
    std::ifstream in("/proc/self/oom_score_adj");
    int value = -1;
    in >> value;
    return value;
}

// Raises the test process's own value: harmless, a test process is a fine
// first choice for the OOM killer.
TEST(OomPriority, RaisesTheScoreAndNeverLowersIt) {
    ASSERT_TRUE(raise_oom_score_adj(kRendererOomScoreAdj));
    EXPECT_EQ(own_oom_score_adj(), kRendererOomScoreAdj);
    EXPECT_TRUE(raise_oom_score_adj(100));
    EXPECT_EQ(own_oom_score_adj(), kRendererOomScoreAdj);
}

}  // namespace
}  // namespace enconvert::render_child
