// Exponential reconnect back-off: 0.5 s doubling to a 10 s cap, reset on
// success, so a database outage is retried quickly at first without
// hammering the server later.
#pragma once

#include <algorithm>
#include <chrono>

namespace enconvert::util {

class Backoff {
  public:
    using clock = std::chrono::steady_clock;

    bool due(clock::time_point now) const { return now >= next_attempt_; }
    void failed(clock::time_point now) {
        next_attempt_ = now + delay_;
        delay_ = std::min(delay_ * 2, std::chrono::milliseconds(10000));
    }
    void succeeded() {
        delay_ = std::chrono::milliseconds(500);
        next_attempt_ = {};
    }
    clock::time_point next_attempt() const { return next_attempt_; }

  private:
    std::chrono::milliseconds delay_{500};
    clock::time_point next_attempt_{};
};

}  // namespace enconvert::util
