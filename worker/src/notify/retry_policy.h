// What happens after one delivery attempt: delivered, failed for good, or
// retried later (only when the operator configured retries).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "db/notification_store.h"

namespace enconvert::notify {

struct AttemptOutcome {
    bool delivered = false;
    std::optional<int> response_code;  // HTTP status or last SMTP reply code
    std::string error;                 // set when not delivered
    bool permanent = false;            // retrying cannot help (policy refusal, SMTP 5xx)
    std::optional<std::chrono::seconds> retry_after;  // the receiver asked us to wait
};

// attempts: attempts made so far including this one; max_retries: extra
// attempts allowed after the first. `unit_random` in [0, 1) supplies jitter.
// Delay: 30 s doubling per attempt, capped at 1 h, scaled by a random factor
// in [0.5, 1) so receivers that failed together are not hit together again;
// a Retry-After from the receiver wins (capped at 24 h).
db::DeliveryRecord decide(std::int64_t id, const AttemptOutcome& o, int attempts, int max_retries,
                          double unit_random);

// Retry-After value: delta-seconds or an HTTP-date. nullopt if unparsable.
std::optional<std::chrono::seconds> parse_retry_after(const std::string& value,
                                                      std::int64_t now_unix);

}  // namespace enconvert::notify
