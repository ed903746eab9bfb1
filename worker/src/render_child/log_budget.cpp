#include "render_child/log_budget.h"

#include <algorithm>

namespace enconvert::render_child {

LogBudget::LogBudget(std::size_t burst_bytes, std::size_t bytes_per_second, Clock::time_point now)
    : burst_(static_cast<double>(burst_bytes)),
      rate_(static_cast<double>(bytes_per_second)),
      available_(burst_),
      refilled_at_(now) {}

bool LogBudget::admit(std::size_t bytes, Clock::time_point now) {
    if (now > refilled_at_) {
        const double seconds = std::chrono::duration<double>(now - refilled_at_).count();
        available_ = std::min(burst_, available_ + seconds * rate_);
        refilled_at_ = now;
    }
    const double cost = static_cast<double>(bytes);
    if (cost <= available_) {
        available_ -= cost;
        return true;
    }
    ++dropped_.lines;
    dropped_.bytes += bytes;
    return false;
}

LogBudget::Dropped LogBudget::take_dropped() {
    const Dropped out = dropped_;
    dropped_ = {};
    return out;
}

}  // namespace enconvert::render_child
