// The child's dispatcher: owns the view slots, queues requests when all
// views are busy (the worker should not send more than it may, but a burst
// must not be dropped) and answers every request exactly once.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "render_child/channel.h"
#include "render_child/content_filters.h"
#include "render_child/gate/outbound_gate.h"
#include "render_child/job.h"
#include "render_child/view_slot.h"
#include "render_child/work_thread.h"

namespace enconvert::render_child {

class Renderer {
  public:
    // Views beyond the `views` the worker may keep busy. After a job a view
    // spends 100-300 ms loading about:blank and clearing website data, and
    // the worker sends the next job as soon as the answer arrives: without
    // a spare, that job waited for the reset (median 111 ms, p90 213 ms in
    // the render bench, docs/benchmarks.md). A spare view costs one idle
    // web process.
    static constexpr int kSpareViews = 1;
    // The view slots (indexes 0 .. n-1) a renderer for `views` keeps.
    static constexpr int view_slots(int views) { return views + kSpareViews; }

    // `on_ready` runs once, when every view has warmed up.
    // `gate` outlives the renderer: every view connects through it.
    // `finish_limit`: how long a PDF may still be finished after its job
    // was answered before the process takes its work thread for stuck and
    // exits (work_thread.h).
    Renderer(int views, std::string printer_name, ViewLimits limits,
             std::chrono::milliseconds finish_limit, const OutboundGate& gate, Channel& channel,
             std::function<void()> on_ready);

    void on_message(const nlohmann::json& message);

  private:
    void dispatch();
    void expire_waits();
    void arm_wait_timer();
    void cancel(std::uint64_t id);
    void answer(std::uint64_t id, const Outcome& outcome);

    Channel& channel_;
    // Before the slots: they keep a reference.
    ContentFilters filters_;
    std::vector<std::unique_ptr<ViewSlot>> slots_;
    // After the slots, so it goes first: it waits for the PDF it is
    // finishing, and the slots then remove their files.
    WorkThread work_;
    std::deque<Job> queue_;
    std::function<void()> on_ready_;
    // dispatch() again when a queued job's timeout ends, or in a second
    // while one waits for the ad list (content_filters.h).
    SourceId wait_timer_;
};

}  // namespace enconvert::render_child
