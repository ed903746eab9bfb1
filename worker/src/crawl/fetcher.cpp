#include "crawl/fetcher.h"

#include <algorithm>
#include <array>
#include <stdexcept>

#include "crawl/url.h"
#include "curl/curl_handles.h"
#include "net/background_resolve.h"
#include "net/restricted_ports.h"
#include "outbound/address_pin.h"
#include "util/ascii.h"

namespace enconvert::crawl {

namespace {

using Clock = std::chrono::steady_clock;

// Everything one transfer's callbacks point at.
struct TransferState {
    std::string body;
    std::size_t max_body = 0;
    bool truncated = false;
    const std::atomic<bool>* cancel = nullptr;
    bool cancelled = false;
};

std::size_t on_data(char* data, std::size_t size, std::size_t n, void* user) {
    auto* s = static_cast<TransferState*>(user);
    const std::size_t len = size * n;
    const std::size_t room = s->max_body - std::min(s->max_body, s->body.size());
    if (len > room) {
        s->body.append(data, room);
        s->truncated = true;
        return 0;  // ends the transfer (CURLE_WRITE_ERROR), the prefix is kept
    }
    s->body.append(data, len);
    return len;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* s = static_cast<TransferState*>(user);
    if (s->cancel != nullptr && s->cancel->load()) {
        s->cancelled = true;
        return 1;
    }
    return 0;
}

FetchResult failure(std::string url, std::string code, std::string sentence) {
    FetchResult r;
    r.final_url = std::move(url);
    r.error_code = std::move(code);
    r.error = std::move(sentence);
    return r;
}

}  // namespace

CurlFetcher::CurlFetcher(Settings settings) : settings_(std::move(settings)) {
    curl::ensure_curl_global_init();
}

std::optional<net::Resolved> CurlFetcher::look_up(const std::string& host,
                                                  Clock::time_point deadline) const {
    // The lookup may never answer: wait for it in slices, so the budget and
    // a stop end the wait (net/background_resolve.h).
    const net::BackgroundResolve lookup(settings_.policy, host);
    constexpr auto kSlice = std::chrono::milliseconds(100);
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return std::nullopt;
        if (auto answer = lookup.wait_for(std::min(left, kSlice))) return answer;
        if (settings_.cancel != nullptr && settings_.cancel->load()) return std::nullopt;
    }
}

FetchResult CurlFetcher::get(const std::string& start_url, std::chrono::milliseconds budget,
                             const RedirectFilter& follow) {
    const auto deadline = Clock::now() + budget;
    std::string url = start_url;
    for (int hop = 0;; ++hop) {
        const auto parsed = parse_url(url);
        if (!parsed) return failure(url, "invalid_url", "not an absolute http(s) URL: " + url);
        if (net::is_restricted_port(parsed->port)) {
            return failure(url, "restricted_port",
                           "port " + std::to_string(parsed->port) + " of " + parsed->host +
                               " is one browsers do not connect to");
        }
        if (deadline <= Clock::now()) {
            return failure(url, "timeout", "no complete answer within the time budget");
        }
        if (settings_.cancel != nullptr && settings_.cancel->load()) {
            return failure(url, "cancelled", "discovery was stopped");
        }

        const std::optional<net::Resolved> answer = look_up(parsed->host, deadline);
        if (!answer) {
            if (settings_.cancel != nullptr && settings_.cancel->load()) {
                return failure(url, "cancelled", "discovery was stopped");
            }
            return failure(url, "timeout",
                           parsed->host + " did not resolve within the time budget");
        }
        const net::Resolved& resolved = *answer;
        if (resolved.error == net::ResolveError::not_found) {
            return failure(url, "dns_failed", parsed->host + " does not resolve");
        }
        if (resolved.error == net::ResolveError::blocked_address) {
            return failure(url, "blocked_address",
                           parsed->host +
                               " is on a private or reserved address this service does not "
                               "connect to");
        }

        // What the look-up left of the budget: the transfer gets no more.
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            return failure(url, "timeout", "no complete answer within the time budget");
        }

        TransferState state;
        state.max_body = settings_.max_body;
        state.cancel = settings_.cancel;
        std::array<char, CURL_ERROR_SIZE> errbuf{};
        curl::CurlEasy easy = curl::make_easy();
        CURL* h = easy.get();
        curl::set_option(h, CURLOPT_URL, parsed->url.c_str());
        curl::set_option(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl::set_option(h, CURLOPT_FOLLOWLOCATION, 0L);  // each hop comes back here to be checked
        curl::set_option(h, CURLOPT_PROXY,
                         "");  // an http_proxy in the environment must not reroute
        curl::set_option(h, CURLOPT_NOSIGNAL, 1L);
        curl::set_option(h, CURLOPT_TIMEOUT_MS, static_cast<long>(left.count()));
        curl::set_option(h, CURLOPT_ERRORBUFFER, errbuf.data());
        curl::set_option(h, CURLOPT_USERAGENT, settings_.user_agent.c_str());
        curl::set_option(h, CURLOPT_ACCEPT_ENCODING, "");  // whatever curl can decode
        curl::set_option(h, CURLOPT_SSL_VERIFYPEER, 1L);
        curl::set_option(h, CURLOPT_SSL_VERIFYHOST, 2L);
        if (settings_.ca_blob != nullptr && !settings_.ca_blob->empty()) {
            curl_blob blob{const_cast<char*>(settings_.ca_blob->data()), settings_.ca_blob->size(),
                           CURL_BLOB_COPY};
            curl::set_option(h, CURLOPT_CAINFO_BLOB, &blob);
        }
        // Only to the addresses the policy checked, the next one when one
        // does not answer (outbound/address_pin.h).
        const outbound::AddressPin pin("d" + std::to_string(hop), parsed->host, parsed->port,
                                       resolved.allowed);
        pin.apply(h, static_cast<long>(left.count()));
        curl::set_option(h, CURLOPT_WRITEFUNCTION, &on_data);
        curl::set_option(h, CURLOPT_WRITEDATA, static_cast<void*>(&state));
        curl::set_option(h, CURLOPT_NOPROGRESS, 0L);
        curl::set_option(h, CURLOPT_XFERINFOFUNCTION, &on_progress);
        curl::set_option(h, CURLOPT_XFERINFODATA, static_cast<void*>(&state));

        const CURLcode rc = curl_easy_perform(h);
        if (state.cancelled) return failure(parsed->url, "cancelled", "discovery was stopped");
        if (rc == CURLE_OPERATION_TIMEDOUT) {
            return failure(parsed->url, "timeout", "no complete answer within the time budget");
        }
        if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && state.truncated)) {
            const std::string detail =
                pin.message(errbuf[0] != '\0' ? errbuf.data() : curl_easy_strerror(rc));
            return failure(parsed->url, "fetch_failed", parsed->url + ": " + detail);
        }

        FetchResult r;
        r.final_url = parsed->url;
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        r.status = static_cast<int>(code);
        char* ctype = nullptr;
        if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK && ctype != nullptr) {
            r.content_type = util::ascii_lower(ctype);
        }
        char* location = nullptr;
        const bool redirect = r.status >= 300 && r.status < 400 &&
                              curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &location) == CURLE_OK &&
                              location != nullptr;
        if (!redirect) {
            r.body = std::move(state.body);
            r.body_truncated = state.truncated;
            return r;
        }
        const auto next = resolve_url(parsed->url, location);
        r.location = next ? next->url : std::string(location);
        if (!next || !follow || !follow(next->url)) {
            r.error_code = "redirect_refused";
            r.error = parsed->url + " redirects to " + r.location + ", which is not followed";
            return r;
        }
        if (hop >= settings_.max_redirects) {
            r.error_code = "too_many_redirects";
            r.error = "more than " + std::to_string(settings_.max_redirects) + " redirects";
            return r;
        }
        url = next->url;
    }
}

}  // namespace enconvert::crawl
