// How discovery reads the web: the Fetcher interface (tests and the crawler
// see only this) and CurlFetcher, the real one over libcurl. CurlFetcher
// applies the worker's outbound address policy (net/address_policy.h) to
// every request, redirects included: resolve once, refuse a non-public
// address unless allowed_networks exempts it, then connect only to the
// checked addresses, the next when one does not answer
// (outbound/address_pin.h, verified again when the socket is opened), so
// neither a link, a redirect nor a second DNS answer reaches an internal
// service.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "net/address_policy.h"

namespace enconvert::crawl {

struct FetchResult {
    int status = 0;               // the last HTTP status; 0 when no answer came
    std::string final_url;        // the URL that gave this answer (after followed redirects)
    std::string location;         // a redirect's target when it was not followed
    std::string content_type;     // lower case, parameters kept ("text/html; charset=utf-8")
    std::string body;             // at most the fetcher's size cap
    bool body_truncated = false;  // the cap was hit: `body` is the first part
    // "" on an answer (any status). Otherwise: "invalid_url", "restricted_port"
    // (net/restricted_ports.h), "blocked_address", "dns_failed", "timeout", "redirect_refused",
    // "too_many_redirects", "cancelled", "fetch_failed"; `error` is a sentence.
    std::string error_code, error;

    bool ok() const { return error_code.empty() && status >= 200 && status < 300; }
};

// Decides whether a redirect to the given (absolute, normalised) URL is followed.
using RedirectFilter = std::function<bool(const std::string& next_url)>;

class Fetcher {
  public:
    virtual ~Fetcher() = default;
    // GET `url` within `budget` (every redirect hop included), following
    // redirects `follow` agrees to (none when it is empty).
    virtual FetchResult get(const std::string& url, std::chrono::milliseconds budget,
                            const RedirectFilter& follow) = 0;
};

class CurlFetcher final : public Fetcher {
  public:
    struct Settings {
        net::AddressPolicy policy;  // AddressPolicy::from_config(allowed_networks)
        std::size_t max_body = 10 * 1024 * 1024;
        int max_redirects = 5;
        std::string user_agent = "Mozilla/5.0 (compatible; enconvert/1; website capture)";
        const std::string* ca_blob = nullptr;       // PEM bundle, or null for curl's defaults
        const std::atomic<bool>* cancel = nullptr;  // aborts a transfer in flight
    };

    explicit CurlFetcher(Settings settings);
    FetchResult get(const std::string& url, std::chrono::milliseconds budget,
                    const RedirectFilter& follow) override;

  private:
    using Clock = std::chrono::steady_clock;
    // The host's checked addresses; nullopt when the lookup did not answer
    // before `deadline` or discovery was stopped.
    std::optional<net::Resolved> look_up(const std::string& host, Clock::time_point deadline) const;

    Settings settings_;
};

}  // namespace enconvert::crawl
