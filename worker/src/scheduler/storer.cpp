#include "scheduler/storer.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>
#include <utility>

namespace enconvert::scheduler {

Storer::Storer() {
    event_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (event_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
    try {
        thread_ = std::thread([this] { run(); });
    } catch (...) {
        ::close(event_fd_);
        throw;
    }
}

Storer::~Storer() {
    stop();
    ::close(event_fd_);
}

void Storer::submit(Job job) {
    {
        const std::lock_guard lock(mutex_);
        queued_.push_back(std::move(job));
    }
    wake_.notify_one();
}

std::vector<db::TaskOutcome> Storer::take_done() {
    // The counter is drained under the lock the thread signals under, so the
    // fd is readable exactly while outcomes wait: drained before the lock, an
    // outcome pushed in between would be taken now and leave a stale signal.
    const std::lock_guard lock(mutex_);
    std::uint64_t count = 0;
    // EAGAIN just means nothing was signalled.
    [[maybe_unused]] const auto n = ::read(event_fd_, &count, sizeof count);
    return std::exchange(done_, {});
}

bool Storer::drop_queued() {
    const std::lock_guard lock(mutex_);
    queued_.clear();
    return in_hand_;
}

void Storer::stop() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
        queued_.clear();
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
}

void Storer::run() {
    std::unique_lock lock(mutex_);
    while (true) {
        wake_.wait(lock, [this] { return stopping_ || !queued_.empty(); });
        if (queued_.empty()) return;  // stopping
        Job job = std::move(queued_.front());
        queued_.pop_front();
        in_hand_ = true;
        lock.unlock();
        db::TaskOutcome outcome = job();
        lock.lock();
        in_hand_ = false;
        done_.push_back(std::move(outcome));
        const std::uint64_t one = 1;
        [[maybe_unused]] const auto n = ::write(event_fd_, &one, sizeof one);
    }
}

}  // namespace enconvert::scheduler
