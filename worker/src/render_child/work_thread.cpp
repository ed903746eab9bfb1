#include "render_child/work_thread.h"

#include <exception>

namespace enconvert::render_child {

struct WorkThread::Delivery {
    std::shared_ptr<Liveness> liveness;
    Done done;
    std::string error;
};

WorkThread::WorkThread()
    : context_(g_main_context_ref_thread_default()),
      liveness_(std::make_shared<Liveness>()),
      thread_([this] { run(); }) {}

WorkThread::~WorkThread() {
    liveness_->alive = false;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        queue_.clear();
    }
    wake_.notify_one();
    thread_.join();
    g_main_context_unref(context_);
}

void WorkThread::post(std::function<void()> work, Done done) {
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
        // Always through a source, never called here: g_main_context_invoke
        // would run `done` on this thread whenever it could acquire the
        // context (the loop not running at that moment).
        GSource* source = g_idle_source_new();
        g_source_set_priority(source, G_PRIORITY_DEFAULT);
        g_source_set_callback(source, &WorkThread::deliver,
                              new Delivery{liveness_, std::move(item.done), std::move(error)},
                              [](gpointer data) { delete static_cast<Delivery*>(data); });
        g_source_attach(source, context_);
        g_source_unref(source);
    }
}

gboolean WorkThread::deliver(gpointer data) {
    auto* delivery = static_cast<Delivery*>(data);
    if (delivery->liveness->alive) delivery->done(delivery->error);
    return G_SOURCE_REMOVE;
}

}  // namespace enconvert::render_child
