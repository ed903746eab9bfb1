#pragma once

#include <chrono>
#include <thread>

namespace enconvert::test_support {

// Waits for `pred` to hold, looking every 5 ms, for at most `bound`; false
// if it never did. Tests wait for a condition, never for a fixed time.
template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds bound = std::chrono::seconds(10)) {
    const auto end = std::chrono::steady_clock::now() + bound;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

}  // namespace enconvert::test_support
