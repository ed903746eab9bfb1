// Outcomes a component holds until the database takes them (the scheduler's
// task outcomes, the notifier's delivery outcomes), recorded in passes.
#pragma once

#include <cstddef>
#include <deque>
#include <utility>

#include "util/backoff.h"

namespace enconvert::util {

// What became of one entry in a pass.
enum class RecordStep {
    recorded,  // the database took it (or had it): leaves the queue
    dropped,   // can never be recorded: leaves the queue
    kept,      // the connection is gone: stays first, and the pass ends
    refused,   // refused for now on an open connection (a statement
               // timeout, a full disk): goes last
};

// One pass over `queue`, front first, each entry at most once, while
// `connected()`. An entry the server refuses goes behind the others, which
// do not wait for it (one refused every time held up every other entry);
// after a pass with a refusal the next waits for `refusals` (0.5 s doubling
// to 10 s, reset by an entry recorded).
template <class T, class Connected, class Record>
void record_pass(std::deque<T>& queue, Backoff& refusals, Connected connected, Record record) {
    const auto now = Backoff::clock::now();
    if (!refusals.due(now)) return;
    bool refused = false;
    bool kept = false;
    for (std::size_t left = queue.size(); left > 0 && !kept && connected(); --left) {
        switch (record(queue.front())) {
            case RecordStep::recorded:
                refusals.succeeded();
                queue.pop_front();
                break;
            case RecordStep::dropped:
                queue.pop_front();
                break;
            case RecordStep::kept:
                kept = true;
                break;
            case RecordStep::refused: {
                T later = std::move(queue.front());
                queue.pop_front();
                queue.push_back(std::move(later));
                refused = true;
                break;
            }
        }
    }
    if (refused) refusals.failed(now);
}

}  // namespace enconvert::util
