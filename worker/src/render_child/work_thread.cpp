#include "render_child/work_thread.h"

#include <exception>

#include "log/log.h"

namespace enconvert::render_child {

namespace {

constexpr log::Logger kLog{"work_thread"};

// A source that is ready only when its ready time says so
// (g_source_set_ready_time, which any thread may call).
gboolean dispatch_ready(GSource*, GSourceFunc callback, gpointer data) {
    return callback(data);
}

GSourceFuncs kReadySourceFuncs = {nullptr, nullptr, &dispatch_ready, nullptr, nullptr, nullptr};

GSourcePtr attached(GSource* source, GMainContext* context, GSourceFunc callback, gpointer data) {
    g_source_set_callback(source, callback, data, nullptr);
    g_source_attach(source, context);
    return GSourcePtr(source);
}

GSource* new_ready_source() {
    GSource* source = g_source_new(&kReadySourceFuncs, sizeof(GSource));
    g_source_set_ready_time(source, -1);
    return source;
}

}  // namespace

WorkThread::WorkThread(std::chrono::milliseconds stuck_after, std::function<void()> on_stuck)
    : stuck_after_(stuck_after),
      on_stuck_(std::move(on_stuck)),
      context_(g_main_context_ref_thread_default()),
      source_(attached(new_ready_source(), context_.get(), &WorkThread::deliver, this)),
      thread_([this] { run(); }) {}

WorkThread::~WorkThread() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        queue_.clear();
    }
    wake_.notify_one();
    thread_.join();
    // The members go on the main loop's thread, so no dispatch of their
    // sources is running or can follow.
}

void WorkThread::post(std::function<void()> work, Done done) {
    ++posted_;
    {
        std::lock_guard lock(mutex_);
        queue_.push_back({std::move(work), std::move(done)});
    }
    wake_.notify_one();
}

void WorkThread::run() {
    for (;;) {
        Item item;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            item = std::move(queue_.front());
            queue_.pop_front();
        }
        // The thread's boundary: what the work throws becomes its error.
        std::string error;
        try {
            item.work();
        } catch (const std::exception& e) {
            error = e.what();
            if (error.empty()) error = "unknown error";
        } catch (...) {
            error = "unknown error";
        }
        ++ended_;
        {
            std::lock_guard lock(answers_mutex_);
            answers_.push_back({std::move(item.done), std::move(error)});
        }
        // Never called here: g_main_context_invoke would run `done` on this
        // thread whenever it could acquire the context (the loop not
        // running at that moment).
        g_source_set_ready_time(source_.get(), 0);
    }
}

void WorkThread::hurry() {
    auto hurry = std::make_unique<Hurry>(Hurry{this, posted_, ended_, nullptr});
    arm(*hurry);
    hurries_.push_back(std::move(hurry));
}

void WorkThread::arm(Hurry& hurry) {
    hurry.ended = ended_;
    hurry.source = attached(g_timeout_source_new(static_cast<guint>(stuck_after_.count())),
                            context_.get(), &WorkThread::on_hurry_due, &hurry);
}

gboolean WorkThread::on_hurry_due(gpointer data) {
    auto* hurry = static_cast<Hurry*>(data);
    WorkThread* self = hurry->self;
    const std::uint64_t ended = self->ended_;
    if (ended < hurry->posted && ended > hurry->ended) {
        // Not done, but an item ended since: the thread works through a
        // queue of other views' work, it is not stuck. Checked again.
        // (The source being dispatched is dropped by the context once this
        // returns; its holder lets go of it here.)
        self->arm(*hurry);
        return G_SOURCE_REMOVE;
    }
    const bool stuck = ended < hurry->posted;
    // Destroying a source from its own callback is allowed; the context
    // drops it once this returns. `hurry` is gone after this.
    std::erase_if(self->hurries_, [hurry](const auto& h) { return h.get() == hurry; });
    if (stuck) self->on_stuck_();
    return G_SOURCE_REMOVE;
}

gboolean WorkThread::deliver(gpointer data) {
    auto* self = static_cast<WorkThread*>(data);
    // Before taking the answers: one added after this makes it ready again.
    g_source_set_ready_time(self->source_.get(), -1);
    std::deque<Answer> ready;
    {
        std::lock_guard lock(self->answers_mutex_);
        ready.swap(self->answers_);
    }
    // The loop's boundary: an exception must not cross GLib's C frames
    // (std::terminate would end the child, every view's job with it). The
    // job whose answer threw ends at its deadline; the others go on.
    for (Answer& answer : ready) {
        try {
            answer.done(answer.error);
        } catch (const std::exception& e) {
            kLog.error("an answer of the work thread failed", {{"error", e.what()}});
        } catch (...) {
            kLog.error("an answer of the work thread failed", {{"error", "unknown error"}});
        }
    }
    return G_SOURCE_CONTINUE;
}

}  // namespace enconvert::render_child
