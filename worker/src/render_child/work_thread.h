// One thread beside the GLib main loop for work that would hold the loop
// up: post-processing a long PDF takes seconds, and every view of the child
// (other tenants' jobs) stood still meanwhile. Work runs one item at a time
// in the order posted: poppler builds process-wide state lazily and without
// locks, so all of the child's poppler reading must stay on this one thread.
#pragma once

#include <glib.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace enconvert::render_child {

class WorkThread {
  public:
    // `error`: empty when the work returned, else what it threw.
    using Done = std::function<void(const std::string& error)>;

    // Results are delivered on the main context of the thread that
    // constructs this (the GLib main loop's thread).
    WorkThread();
    // Discards work not yet started and waits for the item running; no
    // `done` runs after this.
    ~WorkThread();
    WorkThread(const WorkThread&) = delete;
    WorkThread& operator=(const WorkThread&) = delete;

    // Runs `work` on the thread, then `done` on the main loop. Both always
    // run unless this is destroyed first.
    void post(std::function<void()> work, Done done);

  private:
    struct Item {
        std::function<void()> work;
        Done done;
    };
    struct Answer {
        Done done;
        std::string error;
    };

    void run();
    static gboolean deliver(gpointer data);

    GMainContext* const context_;
    // Made ready by the thread when an answer waits, dispatched (and
    // destroyed) on the main loop only. Answers are handed over under
    // answers_mutex_, not through GLib's own locking, so the hand-over is
    // plain C++ (and visible to TSan).
    GSource* const source_;
    std::mutex answers_mutex_;
    std::deque<Answer> answers_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Item> queue_;
    bool stopping_ = false;
    std::thread thread_;  // last: starts once the rest exists
};

}  // namespace enconvert::render_child
