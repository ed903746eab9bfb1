// One thread beside the GLib main loop for work that would hold the loop
// up: post-processing a long PDF takes seconds, and every view of the child
// (other tenants' jobs) stood still meanwhile. Work runs one item at a time
// in the order posted: poppler builds process-wide state lazily and without
// locks, so all of the child's poppler reading must stay on this one thread.
//
// A thread cannot be stopped mid-item. Work whose job was answered (its
// deadline, a cancel) is hurried: if what was posted until then has not
// ended `stuck_after` later, the thread is taken for stuck (a library
// looping on a hostile document) and `on_stuck` runs on the main loop; the
// renderer then exits and the pool starts a fresh one (every later PDF of
// the child would wait behind the stuck item).
#pragma once

#include <glib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "render_child/glib_ptr.h"

namespace enconvert::render_child {

class WorkThread {
  public:
    // `error`: empty when the work returned, else what it threw.
    using Done = std::function<void(const std::string& error)>;

    // Results are delivered on the main context of the thread that
    // constructs this (the GLib main loop's thread).
    WorkThread(std::chrono::milliseconds stuck_after, std::function<void()> on_stuck);
    // Discards work not yet started and waits for the item running; no
    // `done` runs after this.
    ~WorkThread();
    WorkThread(const WorkThread&) = delete;
    WorkThread& operator=(const WorkThread&) = delete;

    // Runs `work` on the thread, then `done` on the main loop. Both always
    // run unless this is destroyed first.
    void post(std::function<void()> work, Done done);
    // Everything posted so far must end, and the thread must end an item
    // at least every `stuck_after` until then: one item running that long
    // is stuck. Items queued before (other views' large screenshots) only
    // make the wait longer, as long as each of them ends in time.
    void hurry();

  private:
    struct Item {
        std::function<void()> work;
        Done done;
    };
    struct Answer {
        Done done;
        std::string error;
    };

    // A check due `stuck_after` after a hurry(), its timeout source
    // attached to the main context.
    struct Hurry {
        WorkThread* self;
        std::uint64_t posted;  // items posted when hurried
        std::uint64_t ended;   // items ended when the check was (re)armed
        GSourcePtr source;
    };

    void run();
    static gboolean deliver(gpointer data);
    // (Re)starts `hurry`'s check, counting from the items ended now.
    void arm(Hurry& hurry);
    static gboolean on_hurry_due(gpointer data);

    const std::chrono::milliseconds stuck_after_;
    const std::function<void()> on_stuck_;
    // Declared before the sources attached to it: it goes after them.
    const GMainContextPtr context_;
    // Made ready by the thread when an answer waits, dispatched (and
    // destroyed) on the main loop only. Answers are handed over under
    // answers_mutex_, not through GLib's own locking, so the hand-over is
    // plain C++ (and visible to TSan).
    const GSourcePtr source_;
    std::mutex answers_mutex_;
    std::deque<Answer> answers_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Item> queue_;
    bool stopping_ = false;
    std::uint64_t posted_ = 0;                     // main thread only
    std::atomic<std::uint64_t> ended_{0};          // items whose work has ended
    std::vector<std::unique_ptr<Hurry>> hurries_;  // checks not yet due
    std::thread thread_;                           // last: starts once the rest exists
};

}  // namespace enconvert::render_child
