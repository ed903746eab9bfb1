#include "progress_bar.h"

#include <gtest/gtest.h>

#include <sstream>

using namespace enconvert::cli;

TEST(ProgressBar, CountsFinishedConvertedAndFailed) {
    EXPECT_EQ(progress_counts({3, 1, 1}), "2/3 finished (1 converted, 1 failed)");
    EXPECT_EQ(render_line({3, 0, 0}), "progress: 0/3 finished (0 converted, 0 failed)");
}

TEST(ProgressBar, FillsInProportionToFinishedTasks) {
    EXPECT_EQ(render_bar({4, 0, 0}, 8), "[--------] 0/4 finished (0 converted, 0 failed)");
    EXPECT_EQ(render_bar({4, 1, 0}, 8), "[##------] 1/4 finished (1 converted, 0 failed)");
    EXPECT_EQ(render_bar({4, 2, 1}, 8), "[######--] 3/4 finished (2 converted, 1 failed)");
    EXPECT_EQ(render_bar({4, 3, 1}, 8), "[########] 4/4 finished (3 converted, 1 failed)");
    EXPECT_EQ(render_bar({3, 1, 0}, 10), "[###-------] 1/3 finished (1 converted, 0 failed)");
}

TEST(ProgressBar, NeverOverflowsOnOddCounts) {
    EXPECT_EQ(render_bar({0, 0, 0}, 4), "[----] 0/0 finished (0 converted, 0 failed)");
    EXPECT_EQ(render_bar({1, 2, 0}, 4), "[####] 2/1 finished (2 converted, 0 failed)");
}

TEST(ProgressDisplay, WithoutTerminalPrintsOneLinePerChange) {
    std::ostringstream out;
    {
        ProgressDisplay display(out, false);
        display.show({2, 0, 0});
        display.show({2, 0, 0});
        display.show({2, 1, 0});
        display.show({2, 1, 1});
    }
    EXPECT_EQ(out.str(),
              "progress: 0/2 finished (0 converted, 0 failed)\n"
              "progress: 1/2 finished (1 converted, 0 failed)\n"
              "progress: 2/2 finished (1 converted, 1 failed)\n");
}

TEST(ProgressDisplay, OnTerminalRedrawsOneLineAndEndsIt) {
    std::ostringstream out;
    {
        ProgressDisplay display(out, true);
        display.show({10, 0, 0});
        display.show({10, 10, 0});
    }
    const std::string first = render_bar({10, 0, 0}, ProgressDisplay::kBarWidth);
    const std::string last = render_bar({10, 10, 0}, ProgressDisplay::kBarWidth);
    // The second bar is one character longer ("10/10"): nothing to blank.
    EXPECT_EQ(out.str(), "\r" + first + "\r" + last + "\n");
}

TEST(ProgressDisplay, OnTerminalBlanksWhatALongerBarLeft) {
    std::ostringstream out;
    ProgressDisplay display(out, true);
    display.show({100, 100, 0});
    display.show({100, 0, 0});
    const std::string longer = render_bar({100, 100, 0}, ProgressDisplay::kBarWidth);
    const std::string shorter = render_bar({100, 0, 0}, ProgressDisplay::kBarWidth);
    ASSERT_EQ(longer.size(), shorter.size() + 4);
    EXPECT_EQ(out.str(), "\r" + longer + "\r" + shorter + "    ");
}

TEST(ProgressDisplay, NothingShownNothingEnded) {
    std::ostringstream out;
    { ProgressDisplay display(out, true); }
    EXPECT_EQ(out.str(), "");
}
