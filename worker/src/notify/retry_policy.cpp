#include "notify/retry_policy.h"

#include <curl/curl.h>

#include <algorithm>
#include <cmath>

namespace enconvert::notify {

namespace {
constexpr double kBaseDelay = 30;
constexpr double kMaxDelay = 3600;
constexpr std::int64_t kMaxRetryAfter = 24 * 3600;
}  // namespace

db::DeliveryRecord decide(std::int64_t id, const AttemptOutcome& o, int attempts, int max_retries,
                          double unit_random) {
    db::DeliveryRecord r;
    r.id = id;
    r.attempts = attempts;
    r.response_code = o.response_code;
    if (o.delivered) {
        r.state = db::DeliveryRecord::State::delivered;
        return r;
    }
    r.error = o.error;
    if (o.permanent || attempts > max_retries) {
        r.state = db::DeliveryRecord::State::failed;
        return r;
    }
    r.state = db::DeliveryRecord::State::retry;
    if (o.retry_after) {
        r.retry_after = std::chrono::seconds(
            std::clamp<std::int64_t>(o.retry_after->count(), 1, kMaxRetryAfter));
        return r;
    }
    const double exp = std::min(kMaxDelay, kBaseDelay * std::pow(2.0, std::max(0, attempts - 1)));
    const double jittered = exp * (0.5 + 0.5 * std::clamp(unit_random, 0.0, 1.0));
    r.retry_after = std::chrono::seconds(std::max<std::int64_t>(1, std::llround(jittered)));
    return r;
}

std::optional<std::chrono::seconds> parse_retry_after(const std::string& value,
                                                      std::int64_t now_unix) {
    std::string v = value;
    while (!v.empty() && (v.back() == ' ' || v.back() == '\r' || v.back() == '\n')) v.pop_back();
    while (!v.empty() && v.front() == ' ') v.erase(v.begin());
    if (v.empty()) return std::nullopt;
    if (v.find_first_not_of("0123456789") == std::string::npos) {
        if (v.size() > 9) return std::chrono::seconds(kMaxRetryAfter);
        return std::chrono::seconds(std::stoll(v));
    }
    const time_t when = curl_getdate(v.c_str(), nullptr);
    if (when < 0) return std::nullopt;
    return std::chrono::seconds(std::max<std::int64_t>(0, when - now_unix));
}

}  // namespace enconvert::notify
