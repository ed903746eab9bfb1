// One libcurl easy transfer (a webhook POST or an SMTP send) with every
// buffer it points at, so the lot can sit in a curl multi handle and be
// destroyed in one piece. Options encode the contract: HTTPS only, verified
// TLS, pinned address, no redirects, no proxies, a hard timeout.
#pragma once

#include <curl/curl.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "curl/curl_handles.h"
#include "net/address_policy.h"
#include "notify/retry_policy.h"
#include "outbound/address_pin.h"

namespace enconvert::notify {

struct CallbackTarget {
    std::string host;  // as in the URL (IPv6 literals without brackets)
    int port = 443;
};

// Parses callback_url; nullopt + error code text when it is not an absolute
// https URL with a host ("insecure_url" for other schemes, "invalid_url",
// "restricted_port: …" for a port of net/restricted_ports.h).
std::optional<CallbackTarget> parse_callback_url(const std::string& url, std::string& error);

struct WebhookRequest {
    std::string url;
    CallbackTarget target;
    // The checked addresses, tried in this order: the only ones connected to.
    std::vector<net::IpAddress> addresses;
    std::string body;
    std::vector<std::pair<std::string, std::string>> extra_headers;  // signing
    int timeout_seconds = 30;              // the whole exchange, the host's lookup included
    long lookup_ms = 0;                    // of it, spent looking the host up
    const std::string* ca_blob = nullptr;  // PEM bundle, or null for curl's defaults
};

// Which parts of credentials an smtp(s):// URL names.
struct SmtpUrlCredentials {
    bool user = false;
    bool password = false;
};
SmtpUrlCredentials smtp_url_credentials(const std::string& url);

struct SmtpRequest {
    std::string smtp_url;  // smtp://[user:pass@]host[:port] or smtps://…
    // The password for the URL's user when it is kept out of the URL
    // (smtp_password_file); empty: the URL's own, if any.
    std::string password;
    std::string from;
    std::string to;
    std::string message;  // CRLF lines, as composed
    int timeout_seconds = 60;
    const std::string* ca_blob = nullptr;
};

class Transfer {
  public:
    enum class Kind { webhook, smtp };

    static std::unique_ptr<Transfer> webhook(std::int64_t notification_id, WebhookRequest req);
    static std::unique_ptr<Transfer> smtp(std::int64_t notification_id, SmtpRequest req);

    Transfer(const Transfer&) = delete;
    Transfer& operator=(const Transfer&) = delete;

    CURL* handle() const { return easy_.get(); }
    std::int64_t notification_id() const { return id_; }
    Kind kind() const { return kind_; }

    // The result of the finished transfer, given curl's result code.
    AttemptOutcome outcome(CURLcode rc) const;
    // Past its timeout. The notifier ends a transfer at its deadline after
    // reading what arrived (curl_multi_perform): curl's own limit would
    // also count the time the notifier's loop was held up (a slow database
    // statement) and turn an answer that came in time into a timeout.
    bool overdue(std::chrono::steady_clock::time_point now) const { return now >= deadline_; }

  private:
    Transfer(std::int64_t id, Kind kind, int timeout_seconds, long spent_ms = 0);
    static std::size_t discard(char*, std::size_t size, std::size_t n, void*);
    static std::size_t on_header(char* line, std::size_t size, std::size_t n, void* self);
    static std::size_t read_body(char* buf, std::size_t size, std::size_t n, void* self);
    void common_options(const std::string* ca_blob);

    std::int64_t id_;
    Kind kind_;
    int timeout_seconds_;                             // named in the timeout error
    long time_left_ms_;                               // timeout_seconds_ less what was spent before
    std::chrono::steady_clock::time_point deadline_;  // now + time_left_ms_
    curl::CurlEasy easy_;
    curl::CurlSlist headers_;                    // webhook request headers
    std::unique_ptr<outbound::AddressPin> pin_;  // a webhook's: where it connects
    curl::CurlSlist recipients_;                 // SMTP RCPT TO
    std::string body_;                           // webhook body or the mail message
    std::size_t read_offset_ = 0;
    // A webhook receiver's final answer was a 2xx: delivered, whatever
    // happens to the rest of its answer (the transfer is cut right there).
    bool answered_2xx_ = false;
    std::array<char, CURL_ERROR_SIZE> errbuf_{};
};

}  // namespace enconvert::notify
