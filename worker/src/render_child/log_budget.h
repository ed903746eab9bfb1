// How much of other processes' output the renderer logs. Every line a web
// process writes to stderr becomes a log line (foreign_output.h); a page
// that broke out of the engine could write without end and fill the
// worker's log and its disk. A token bucket of bytes: a burst is logged
// whole, a flood only at the steady rate, and what was dropped is said in
// one line once output is admitted again.
#pragma once

#include <chrono>
#include <cstddef>

namespace enconvert::render_child {

class LogBudget {
  public:
    using Clock = std::chrono::steady_clock;

    // `burst_bytes` may be logged at once; the budget refills at
    // `bytes_per_second` up to that.
    LogBudget(std::size_t burst_bytes, std::size_t bytes_per_second, Clock::time_point now);

    // Whether a line of `bytes` is logged at `now` (it is then paid for);
    // if not it is counted as dropped.
    bool admit(std::size_t bytes, Clock::time_point now);

    // Lines and bytes dropped since the last call, which resets them.
    struct Dropped {
        std::size_t lines = 0;
        std::size_t bytes = 0;
    };
    Dropped take_dropped();
    // Whether lines were dropped since the last take_dropped().
    bool dropped_any() const { return dropped_.lines > 0; }

  private:
    double burst_;
    double rate_;
    double available_;
    Clock::time_point refilled_at_;
    Dropped dropped_;
};

}  // namespace enconvert::render_child
