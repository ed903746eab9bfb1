#include "render/process_memory.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

using namespace enconvert;

namespace {

// A child that forks a grandchild holding `grandchild_mib` of touched
// memory; both wait to be killed. The grandchild's pid comes back once its
// memory is touched.
struct Tree {
    pid_t child = -1;
    pid_t grandchild = -1;
    explicit Tree(std::size_t grandchild_mib) {
        int ready[2];   // grandchild -> child: memory touched
        int report[2];  // child -> test: the grandchild's pid
        if (pipe(ready) != 0 || pipe(report) != 0) return;
        child = fork();
        if (child == 0) {
            const pid_t g = fork();
            if (g == 0) {
                std::vector<char> held(grandchild_mib << 20, 1);
                for (std::size_t i = 0; i < held.size(); i += 4096) held[i] = 2;
                (void)!write(ready[1], "x", 1);
                for (;;) pause();
            }
            char x = 0;
            if (read(ready[0], &x, 1) == 1) (void)!write(report[1], &g, sizeof g);
            for (;;) pause();
        }
        pid_t g = -1;
        if (read(report[0], &g, sizeof g) == sizeof g) grandchild = g;
        for (int fd : {ready[0], ready[1], report[0], report[1]}) close(fd);
    }
    ~Tree() {
        if (grandchild > 0) kill(grandchild, SIGKILL);
        if (child > 0) {
            kill(child, SIGKILL);
            waitpid(child, nullptr, 0);
        }
    }
};

}  // namespace

TEST(ProcessMemory, ATreeCountsItsDescendants) {
    const Tree tree(64);
    ASSERT_GT(tree.grandchild, 0);
    const std::uint64_t whole = render::process_tree_memory_kib(tree.child);
    const std::uint64_t leaf = render::process_tree_memory_kib(tree.grandchild);
    EXPECT_GE(leaf, 60u * 1024);  // its 64 MiB, touched
    EXPECT_GT(whole, leaf);       // plus the child itself
}

TEST(ProcessMemory, AProcessThatIsGoneHoldsNothing) {
    pid_t gone = -1;
    {
        const Tree tree(1);
        ASSERT_GT(tree.child, 0);
        gone = tree.child;
    }
    EXPECT_EQ(render::process_tree_memory_kib(gone), 0u);
}

TEST(ProcessMemory, AProcessKilledOrExitingIsDying) {
    const std::string quiet = "SigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\n";
    // pid (comm) state ppid pgrp session tty_nr tpgid flags ...
    EXPECT_FALSE(render::process_is_dying("42 (Web (Content)) S 1 42 42 0 -1 4194560 7 0", quiet));
    EXPECT_TRUE(render::process_is_dying("42 (Web (Content)) R 1 42 42 0 -1 4194564 7 0", quiet));
    EXPECT_TRUE(render::process_is_dying("42 (WebKitWebProces) Z 1 42 42 0 -1 4194560 7", quiet));
    EXPECT_TRUE(render::process_is_dying("42 (WebKitWebProces) D 1 42 42 0 -1 4194560 7",
                                         "SigPnd:\t0000000000000000\nShdPnd:\t0000000000000100\n"));
    EXPECT_FALSE(render::process_is_dying(
        "42 (WebKitWebProces) S 1 42 42 0 -1 4194560 7",
        "SigPnd:\t0000000000000000\nShdPnd:\t0000000000004000\n"));  // SIGTERM
    EXPECT_FALSE(render::process_is_dying("", ""));
}

TEST(ProcessMemory, ARunningProcessIsNotDying) {
    const Tree tree(1);
    ASSERT_GT(tree.grandchild, 0);
    EXPECT_GT(render::process_tree_memory_kib(tree.grandchild), 0u);
}
