#include "net/background_resolve.h"

#include <condition_variable>
#include <mutex>
#include <thread>

namespace enconvert::net {

// Owned jointly by the caller and the lookup's thread: whichever lets go
// last frees it, so an abandoned lookup never writes to freed memory.
struct BackgroundResolve::Shared {
    std::mutex mutex;
    std::condition_variable answered;
    std::optional<Resolved> answer;
    std::function<void()> on_answer;  // cleared when the caller lets go
};

BackgroundResolve::BackgroundResolve(const AddressPolicy& policy, std::string host,
                                     std::function<void()> on_answer)
    : shared_(std::make_shared<Shared>()) {
    shared_->on_answer = std::move(on_answer);
    // Detached: nothing can end a getaddrinfo early, and joining it is what
    // this class exists to avoid.
    std::thread([policy, host = std::move(host), shared = shared_] {
        Resolved r;
        try {
            r = policy.resolve(host);
        } catch (...) {
            r.error = ResolveError::not_found;  // a lookup that throws found nothing
        }
        const std::lock_guard lock(shared->mutex);
        shared->answer = r;
        shared->answered.notify_all();
        // Under the lock: the caller's abandon() cannot clear it, and what it
        // wakes cannot be destroyed, while it runs.
        if (shared->on_answer) shared->on_answer();
    }).detach();
}

BackgroundResolve::~BackgroundResolve() {
    abandon();
}

BackgroundResolve& BackgroundResolve::operator=(BackgroundResolve&& other) noexcept {
    if (this != &other) {
        abandon();
        shared_ = std::move(other.shared_);
    }
    return *this;
}

void BackgroundResolve::abandon() noexcept {
    if (!shared_) return;
    const std::lock_guard lock(shared_->mutex);
    shared_->on_answer = nullptr;
}

std::optional<Resolved> BackgroundResolve::answer() const {
    if (!shared_) return std::nullopt;
    const std::lock_guard lock(shared_->mutex);
    return shared_->answer;
}

std::optional<Resolved> BackgroundResolve::wait_for(std::chrono::milliseconds timeout) const {
    if (!shared_) return std::nullopt;
    std::unique_lock lock(shared_->mutex);
    shared_->answered.wait_for(lock, timeout, [this] { return shared_->answer.has_value(); });
    return shared_->answer;
}

}  // namespace enconvert::net
