#include "render_child/renderer.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "log/log.h"

namespace enconvert::render_child {

namespace {

constexpr log::Logger kLog{"renderer"};

// Views beyond the `views` the worker may keep busy. After a job a view
// spends 100-300 ms loading about:blank and clearing website data, and the
// worker sends the next job as soon as the answer arrives: without a spare,
// that job waited for the reset (median 111 ms, p90 213 ms in the render
// bench, docs/benchmarks.md). A spare view costs one idle web process.
constexpr int kSpareViews = 1;

// The work thread cannot be stopped, and every later PDF of this child
// would wait behind what holds it: the pool sees the child go, answers
// its running tasks renderer_crashed (queued again) and starts a fresh one.
// _exit, not a return from the main loop: destroying the renderer would
// join the stuck thread.
[[noreturn]] void exit_for_stuck_work(std::chrono::milliseconds limit) {
    // The thread finishes PDFs, counts a downloaded PDF's pages and encodes
    // one-snapshot screenshots: the message names them all.
    kLog.error(
        "work off the main loop (PDF finishing, page count or image encoding) did not end "
        "after its job was answered; exiting",
        {{"limit_ms", limit.count()}});
    _exit(EXIT_FAILURE);
}

}  // namespace

Renderer::Renderer(int views, std::string printer_name, ViewLimits limits,
                   std::chrono::milliseconds finish_limit, const OutboundGate& gate,
                   Channel& channel, std::function<void()> on_ready)
    : channel_(channel),
      filters_([this] { dispatch(); }),
      work_(finish_limit, [finish_limit] { exit_for_stuck_work(finish_limit); }),
      on_ready_(std::move(on_ready)) {
    for (int i = 0; i < views + kSpareViews; ++i) {
        slots_.push_back(std::make_unique<ViewSlot>(
            i, printer_name, limits, gate, filters_, work_,
            [this](std::uint64_t id, const Outcome& o) { answer(id, o); }, [this] { dispatch(); }));
    }
}

void Renderer::on_message(const nlohmann::json& message) {
    if (auto it = message.find("cancel"); it != message.end()) {
        if (it->is_number_unsigned()) cancel(it->get<std::uint64_t>());
        return;
    }
    ParsedRequest parsed = parse_request(message);
    if (!parsed.job) {
        kLog.error("rejected a render request",
                   {{"task_id", parsed.id ? nlohmann::json(*parsed.id) : nlohmann::json(nullptr)},
                    {"why", parsed.rejection}});
        if (parsed.id) {
            Outcome outcome;
            outcome.error_code = "invalid_request";
            outcome.error = "Invalid render request: " + parsed.rejection;
            answer(*parsed.id, outcome);
        }
        return;
    }
    parsed.job->received_us = g_get_monotonic_time();
    queue_.push_back(std::move(*parsed.job));
    dispatch();
}

void Renderer::dispatch() {
    // Jobs wait for the content rule lists too: a job asking for one must
    // not render without it.
    if (!filters_.ready()) return;
    if (on_ready_ &&
        std::all_of(slots_.begin(), slots_.end(), [](const auto& s) { return s->idle(); })) {
        auto ready = std::move(on_ready_);
        on_ready_ = nullptr;
        ready();
    }
    expire_ad_waits();
    for (auto& slot : slots_) {
        if (!slot->idle()) continue;
        // A job waiting for the ad list lets the jobs behind it go first.
        auto next = std::find_if(queue_.begin(), queue_.end(),
                                 [this](const Job& j) { return filters_.ready_for(j); });
        if (next == queue_.end()) break;
        Job job = std::move(*next);
        queue_.erase(next);
        if (job.block_ads) {
            // The worker's deadline runs from when it sent the job: the
            // wait for the list comes out of the render's budget.
            const double waited = (g_get_monotonic_time() - job.received_us) / 1e6;
            job.timeout_seconds = std::max(1.0, job.timeout_seconds - waited);
        }
        slot->start(std::move(job));
    }
    // Jobs left over for want of an idle view: views whose reset was put
    // off after their answer (ViewSlot::defer_reset) reset now.
    if (!queue_.empty())
        for (auto& slot : slots_) slot->reset_now_if_deferred();
    const bool waiting = std::any_of(queue_.begin(), queue_.end(),
                                     [this](const Job& j) { return !filters_.ready_for(j); });
    if (waiting && !ad_wait_tick_) {
        ad_wait_tick_ = SourceId(g_timeout_add_seconds(
            1,
            [](gpointer data) -> gboolean {
                static_cast<Renderer*>(data)->dispatch();
                return G_SOURCE_CONTINUE;
            },
            this));
    } else if (!waiting) {
        ad_wait_tick_.reset();
    }
}

// The first block_ads job of a host waits for WebKit to compile the ad
// list (tens of seconds, once). One that would outlast its timeout
// fails as a timeout, before the worker takes the renderer for hung.
void Renderer::expire_ad_waits() {
    const gint64 now = g_get_monotonic_time();
    for (auto it = queue_.begin(); it != queue_.end();) {
        if (filters_.ready_for(*it) ||
            now - it->received_us < static_cast<gint64>(it->timeout_seconds * 1e6)) {
            ++it;
            continue;
        }
        kLog.warning("render timed out waiting for the ad list",
                     {{"job_id", it->job_id}, {"task_id", it->id}});
        Outcome outcome;
        outcome.error_code = "timeout";
        outcome.error =
            "Failed to render page: the ad list (block_ads) was still being prepared; "
            "it is compiled once, try again shortly";
        const std::uint64_t id = it->id;
        it = queue_.erase(it);
        answer(id, outcome);
    }
}

// The worker lost the job's lease (another worker may render it now): stop
// it wherever it is. Unknown ids (already answered) are ignored.
void Renderer::cancel(std::uint64_t id) {
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
        if (it->id != id) continue;
        kLog.info("render cancelled before it started", {{"job_id", it->job_id}, {"task_id", id}});
        queue_.erase(it);
        Outcome outcome;
        outcome.error_code = "cancelled";
        outcome.error = "The render was cancelled";
        answer(id, outcome);
        return;
    }
    for (auto& slot : slots_)
        if (slot->cancel(id)) return;
}

void Renderer::answer(std::uint64_t id, const Outcome& outcome) {
    channel_.send(result_message(id, outcome));
}

}  // namespace enconvert::render_child
