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
    kept,      // the connection is gone: stays where it is, and the pass ends
    refused,   // refused for now on an open connection (a statement
               // timeout, a full disk, a row locked elsewhere): put off
};

// Entries in the order they came, and those the server refused, put off.
// A pass records the new entries first: they never wait behind a refused
// one (a refusal can take a whole statement_timeout, and one refused every
// time used to hold up every other entry). The refused are tried again
// only when `refusals` allows (0.5 s doubling to 10 s after each pass that
// had one refused, reset once one of them is recorded).
template <class T>
class RecordQueue {
  public:
    void push(T entry) { fresh_.push_back(std::move(entry)); }
    bool empty() const { return fresh_.empty() && refused_.empty(); }
    std::size_t size() const { return fresh_.size() + refused_.size(); }
    // Every entry, new then refused (what a stop does with those left).
    template <class Visit>
    void for_each(Visit visit) const {
        for (const T& e : fresh_) visit(e);
        for (const T& e : refused_) visit(e);
    }
    void clear() {
        fresh_.clear();
        refused_.clear();
    }
    // The next pass tries the refused whatever the back-off: a stop's last
    // chance.
    void retry_refused_now() { refusals_.succeeded(); }

    // One pass, each entry at most once, while `connected()`.
    template <class Connected, class Record>
    void pass(Connected connected, Record record) {
        const auto now = Backoff::clock::now();
        if (!record_fresh(connected, record)) return;
        if (refused_.empty() || !refusals_.due(now)) return;
        bool refused_again = false;
        for (std::size_t left = refused_.size(); left > 0 && connected(); --left) {
            T entry = std::move(refused_.front());
            refused_.pop_front();
            switch (record(entry)) {
                case RecordStep::recorded:
                    refusals_.succeeded();
                    break;
                case RecordStep::dropped:
                    break;
                case RecordStep::kept:
                    refused_.push_front(std::move(entry));
                    return;
                case RecordStep::refused:
                    refused_.push_back(std::move(entry));
                    refused_again = true;
                    break;
            }
        }
        if (refused_again) refusals_.failed(now);
    }

  private:
    // The new entries in order; false when the connection was lost.
    template <class Connected, class Record>
    bool record_fresh(Connected& connected, Record& record) {
        while (!fresh_.empty() && connected()) {
            switch (record(fresh_.front())) {
                case RecordStep::recorded:
                case RecordStep::dropped:
                    fresh_.pop_front();
                    break;
                case RecordStep::kept:
                    return false;
                case RecordStep::refused:
                    if (refused_.empty()) refusals_.failed(Backoff::clock::now());
                    refused_.push_back(std::move(fresh_.front()));
                    fresh_.pop_front();
                    break;
            }
        }
        return fresh_.empty();
    }

    std::deque<T> fresh_;
    std::deque<T> refused_;
    Backoff refusals_;
};

}  // namespace enconvert::util
