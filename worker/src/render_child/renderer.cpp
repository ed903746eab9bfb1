#include "render_child/renderer.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "log/log.h"

namespace enconvert::render_child {

namespace {

constexpr log::Logger kLog{"renderer"};

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

// When a job still in the queue has used its whole timeout (the worker's
// deadline runs from when it sent the job, about when it was received).
gint64 queue_expiry_us(const Job& job) {
    return job.received_us + static_cast<gint64>(job.timeout_seconds * 1e6);
}

}  // namespace

Renderer::Renderer(int views, std::string printer_name, ViewLimits limits,
                   std::chrono::milliseconds finish_limit, const OutboundGate& gate,
                   Channel& channel, std::function<void()> on_ready)
    : channel_(channel),
      filters_([this] { dispatch(); }),
      work_(finish_limit, [finish_limit] { exit_for_stuck_work(finish_limit); }),
      on_ready_(std::move(on_ready)) {
    for (int i = 0; i < view_slots(views); ++i) {
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
    expire_waits();
    for (auto& slot : slots_) {
        if (!slot->idle()) continue;
        // A job waiting for the ad list lets the jobs behind it go first.
        auto next = std::find_if(queue_.begin(), queue_.end(),
                                 [this](const Job& j) { return filters_.ready_for(j); });
        if (next == queue_.end()) break;
        Job job = std::move(*next);
        queue_.erase(next);
        // The worker's deadline runs from when it sent the job: the time
        // it waited here (for a view, or for the ad list) comes out of the
        // render's budget. A job that waited for a view draining an
        // answered print started with its whole timeout and answered past
        // the worker's deadline, which then killed the child and every
        // view's job.
        const double left_us = static_cast<double>(queue_expiry_us(job) - g_get_monotonic_time());
        job.budget_seconds = std::max(1.0, left_us / 1e6);
        slot->start(std::move(job));
    }
    // Jobs left over for want of an idle view: views whose reset was put
    // off after their answer (ViewSlot::defer_reset) reset now.
    if (!queue_.empty())
        for (auto& slot : slots_) slot->reset_now_if_deferred();
    arm_wait_timer();
}

// Wakes dispatch() when a queued job's timeout ends (expire_waits), and
// every second while one waits for the ad list (to see it ready).
void Renderer::arm_wait_timer() {
    wait_timer_.reset();
    if (queue_.empty()) return;
    const gint64 now = g_get_monotonic_time();
    gint64 wake_us = G_MAXINT64;
    for (const Job& j : queue_) {
        wake_us = std::min(wake_us, std::max<gint64>(0, queue_expiry_us(j) - now));
        if (!filters_.ready_for(j)) wake_us = std::min<gint64>(wake_us, 1'000'000);
    }
    wait_timer_ = SourceId(g_timeout_add(
        static_cast<guint>(wake_us / 1000 + 1),
        [](gpointer data) -> gboolean {
            auto* self = static_cast<Renderer*>(data);
            self->wait_timer_.release();
            self->dispatch();
            return G_SOURCE_REMOVE;
        },
        this));
}

// A job still queued when its timeout ends fails as a timeout, before the
// worker's deadline (which runs from when it sent the job) takes the
// renderer for hung: one waiting for the ad list (the first block_ads job
// of a host waits for WebKit to compile it, tens of seconds, once), or for
// a view (all busy: a print still draining after its job's timeout).
void Renderer::expire_waits() {
    const gint64 now = g_get_monotonic_time();
    for (auto it = queue_.begin(); it != queue_.end();) {
        if (now < queue_expiry_us(*it)) {
            ++it;
            continue;
        }
        Outcome outcome;
        outcome.error_code = "timeout";
        if (!filters_.ready_for(*it)) {
            kLog.warning("render timed out waiting for the ad list",
                         {{"job_id", it->job_id}, {"task_id", it->id}});
            outcome.error =
                "Failed to render page: the ad list (block_ads) was still being prepared; "
                "it is compiled once, try again shortly";
        } else {
            kLog.warning("render timed out waiting for a free view",
                         {{"job_id", it->job_id}, {"task_id", it->id}});
            outcome.error =
                "Failed to render page: no view of its renderer was free before its timeout";
        }
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
