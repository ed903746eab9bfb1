// The renderer child's work thread with a real GLib main context: work off
// the loop, answers on it, in order, errors caught, nothing delivered after
// the thread is gone.
#include "render_child/work_thread.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <new>
#include <optional>
#include <thread>
#include <vector>

namespace enconvert::render_child {
namespace {

using namespace std::chrono_literals;

constexpr std::chrono::milliseconds kNeverStuck = 1h;
const auto fail_if_stuck = [] { ADD_FAILURE() << "taken for stuck"; };

// Iterates the thread-default main context until `done` holds or `limit`
// passes; whether it holds.
template <typename Predicate>
bool iterate_until(Predicate done, std::chrono::milliseconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        g_main_context_iteration(nullptr, FALSE);
        std::this_thread::yield();
    }
    return true;
}

TEST(WorkThread, WorkRunsOffTheMainThreadAndItsAnswerOnIt) {
    WorkThread thread(kNeverStuck, fail_if_stuck);
    const auto main_id = std::this_thread::get_id();
    std::optional<std::thread::id> work_id, done_id;
    std::atomic<bool> worked{false};
    thread.post(
        [&] {
            work_id = std::this_thread::get_id();
            worked = true;
        },
        [&](const std::string& error) {
            EXPECT_EQ(error, "");
            done_id = std::this_thread::get_id();
        });
    ASSERT_TRUE(iterate_until([&] { return done_id.has_value(); }));
    ASSERT_TRUE(worked);
    EXPECT_NE(*work_id, main_id);
    EXPECT_EQ(*done_id, main_id);
}

// The main loop not running when the work ends must not let the answer run
// on the work thread (g_main_context_invoke would, having acquired the
// context).
TEST(WorkThread, AnswerWaitsForTheLoopEvenWhenNoOneIteratesIt) {
    WorkThread thread(kNeverStuck, fail_if_stuck);
    std::atomic<bool> worked{false};
    std::atomic<bool> answered{false};
    std::thread::id done_id;
    thread.post([&] { worked = true; },
                [&](const std::string&) {
                    done_id = std::this_thread::get_id();
                    answered = true;
                });
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!worked && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    ASSERT_TRUE(worked);
    EXPECT_FALSE(answered);
    ASSERT_TRUE(iterate_until([&] { return answered.load(); }));
    EXPECT_EQ(done_id, std::this_thread::get_id());
}

TEST(WorkThread, ItemsRunOneAtATimeInTheOrderPosted) {
    WorkThread thread(kNeverStuck, fail_if_stuck);
    constexpr int kItems = 200;
    std::atomic<int> running{0};
    std::atomic<int> most_at_once{0};
    std::vector<int> worked, answered;
    for (int i = 0; i < kItems; ++i) {
        thread.post(
            [&, i] {
                const int now = ++running;
                if (now > most_at_once) most_at_once = now;
                worked.push_back(i);  // only ever one item at a time
                --running;
            },
            [&, i](const std::string&) { answered.push_back(i); });
    }
    ASSERT_TRUE(iterate_until([&] { return answered.size() == kItems; }));
    EXPECT_EQ(most_at_once, 1);
    std::vector<int> in_order(kItems);
    for (int i = 0; i < kItems; ++i) in_order[i] = i;
    EXPECT_EQ(worked, in_order);
    EXPECT_EQ(answered, in_order);
}

TEST(WorkThread, WhatTheWorkThrowsBecomesItsErrorAndTheThreadGoesOn) {
    WorkThread thread(kNeverStuck, fail_if_stuck);
    std::vector<std::string> errors;
    thread.post([] { throw std::runtime_error("qpdf: file is damaged"); },
                [&](const std::string& error) { errors.push_back(error); });
    thread.post([] { throw 42; }, [&](const std::string& error) { errors.push_back(error); });
    thread.post([] {}, [&](const std::string& error) { errors.push_back(error); });
    ASSERT_TRUE(iterate_until([&] { return errors.size() == 3; }));
    EXPECT_EQ(errors[0], "qpdf: file is damaged");
    EXPECT_EQ(errors[1], "unknown error");
    EXPECT_EQ(errors[2], "");
}

// An answer runs from a GLib source: what it throws used to cross GLib's C
// frames into std::terminate, ending the renderer child and every job of
// its views. It is logged and the other answers still run.
TEST(WorkThread, AnAnswerThatThrowsEndsNeitherTheLoopNorTheOtherAnswers) {
    WorkThread thread(kNeverStuck, fail_if_stuck);
    std::vector<int> answered;
    thread.post([] {}, [&](const std::string&) { answered.push_back(1); });
    thread.post([] {},
                [&](const std::string&) {
                    answered.push_back(2);
                    throw std::bad_alloc();
                });
    thread.post([] {},
                [&](const std::string&) {
                    answered.push_back(3);
                    throw 7;
                });
    thread.post([] {}, [&](const std::string&) { answered.push_back(4); });
    ASSERT_TRUE(iterate_until([&] { return answered.size() == 4; }));
    EXPECT_EQ(answered, (std::vector<int>{1, 2, 3, 4}));
}

// The slots that posted work are gone with the thread: an answer queued on
// the loop but not yet delivered must never run.
TEST(WorkThread, NoAnswerRunsOnceTheThreadIsGone) {
    std::atomic<bool> worked{false};
    bool answered = false;
    {
        WorkThread thread(kNeverStuck, fail_if_stuck);
        thread.post([&] { worked = true; }, [&](const std::string&) { answered = true; });
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (!worked && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
        ASSERT_TRUE(worked);
    }
    // Whatever the loop holds is dispatched now; the answer is not among it.
    while (g_main_context_iteration(nullptr, FALSE)) {
    }
    EXPECT_FALSE(answered);
}

// Work that runs until the blocker goes (or is released): an item that
// never ends by itself.
class Blocker {
  public:
    ~Blocker() {
        {
            std::lock_guard lock(mutex_);
            released_ = true;
        }
        cv_.notify_all();
    }
    std::function<void()> work() {
        return [this] {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [this] { return released_; });
        };
    }

  private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool released_ = false;
};

// Work of an answered job that does not end within the bound is taken for
// stuck: the renderer's cue to exit (it cannot stop the thread).
TEST(WorkThread, HurriedWorkThatDoesNotEndInTimeIsTakenForStuck) {
    int stuck = 0;
    WorkThread thread(50ms, [&] { ++stuck; });
    Blocker blocker;  // after the thread: released before it is joined
    thread.post(blocker.work(), [](const std::string&) {});
    thread.hurry();
    EXPECT_TRUE(iterate_until([&] { return stuck > 0; }));
    EXPECT_EQ(stuck, 1);
}

// A queue of other views' work ahead of the answered job's, each item
// ending in time, is no stuck thread: a few large screenshots queued
// before a job that timed out took the child for stuck, and every view's
// job ended with it.
TEST(WorkThread, AQueueThatKeepsEndingItemsIsNotStuck) {
    int stuck = 0;
    bool answered = false;
    WorkThread thread(100ms, [&] { ++stuck; });
    for (int i = 0; i < 4; ++i)
        thread.post([] { std::this_thread::sleep_for(60ms); }, [](const std::string&) {});
    thread.post([] {}, [&](const std::string&) { answered = true; });
    thread.hurry();  // 240 ms of work ahead, 60 ms at a time
    ASSERT_TRUE(iterate_until([&] { return answered; }));
    EXPECT_FALSE(iterate_until([&] { return stuck > 0; }, 300ms));
}

// Progress first, then an item that never ends: still stuck.
TEST(WorkThread, AnItemThatStopsTheQueueIsStuckAfterTheOthersEnded) {
    int stuck = 0;
    WorkThread thread(100ms, [&] { ++stuck; });
    Blocker blocker;  // after the thread: released before it is joined
    for (int i = 0; i < 2; ++i)
        thread.post([] { std::this_thread::sleep_for(60ms); }, [](const std::string&) {});
    thread.post(blocker.work(), [](const std::string&) {});
    thread.hurry();
    EXPECT_TRUE(iterate_until([&] { return stuck > 0; }));
    EXPECT_EQ(stuck, 1);
}

// Only what was posted before the hurry is bound by it: another view's
// work posted after it may run as long as its own job allows.
TEST(WorkThread, HurriedWorkThatEndsInTimeIsNotStuck) {
    int stuck = 0;
    bool answered = false;
    WorkThread thread(100ms, [&] { ++stuck; });
    Blocker blocker;  // after the thread: released before it is joined
    thread.post([] {}, [&](const std::string&) { answered = true; });
    thread.hurry();
    thread.post(blocker.work(), [](const std::string&) {});
    ASSERT_TRUE(iterate_until([&] { return answered; }));
    // The check comes due at 100 ms; nothing may be reported by then.
    EXPECT_FALSE(iterate_until([&] { return stuck > 0; }, 300ms));
}

}  // namespace
}  // namespace enconvert::render_child
