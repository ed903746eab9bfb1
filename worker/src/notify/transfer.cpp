#include "notify/transfer.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <string_view>

#include "net/restricted_ports.h"

namespace enconvert::notify {

namespace {

// How long the notifier's loop may be held up before curl ends a transfer
// itself (the loop ends it at its deadline once it runs again).
constexpr long kCurlTimeoutSlackMs = 60'000;

void set(CURL* h, CURLoption opt, long v) {
    if (curl_easy_setopt(h, opt, v) != CURLE_OK)
        throw std::runtime_error("curl_easy_setopt failed");
}
void set(CURL* h, CURLoption opt, const char* v) {
    if (curl_easy_setopt(h, opt, v) != CURLE_OK)
        throw std::runtime_error("curl_easy_setopt failed");
}
template <typename T>
void set_ptr(CURL* h, CURLoption opt, T* v) {
    if (curl_easy_setopt(h, opt, v) != CURLE_OK)
        throw std::runtime_error("curl_easy_setopt failed");
}

bool is_tls_error(CURLcode rc) {
    switch (rc) {
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_INVALIDCERTSTATUS:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_USE_SSL_FAILED:
            return true;
        default:
            return false;
    }
}

}  // namespace

SmtpUrlCredentials smtp_url_credentials(const std::string& url) {
    curl::CurlUrl u(curl_url());
    if (!u) throw std::bad_alloc();
    SmtpUrlCredentials found;
    if (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return found;
    auto named = [&](CURLUPart part) {
        char* raw = nullptr;
        if (curl_url_get(u.get(), part, &raw, 0) != CURLUE_OK) return false;
        curl::CurlString value(raw);
        return value && value.get()[0] != '\0';
    };
    found.user = named(CURLUPART_USER);
    found.password = named(CURLUPART_PASSWORD);
    return found;
}

std::optional<CallbackTarget> parse_callback_url(const std::string& url, std::string& error) {
    curl::CurlUrl u(curl_url());
    if (!u) throw std::bad_alloc();
    if (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
        error = "invalid_url";
        return std::nullopt;
    }
    char* raw = nullptr;
    if (curl_url_get(u.get(), CURLUPART_SCHEME, &raw, 0) != CURLUE_OK) {
        error = "invalid_url";
        return std::nullopt;
    }
    curl::CurlString scheme(raw);
    if (std::strcmp(scheme.get(), "https") != 0) {
        error = "insecure_url";  // the contract: HTTP URLs are rejected
        return std::nullopt;
    }
    if (curl_url_get(u.get(), CURLUPART_HOST, &raw, 0) != CURLUE_OK) {
        error = "invalid_url";
        return std::nullopt;
    }
    curl::CurlString host(raw);
    CallbackTarget t;
    t.host = host.get();
    if (t.host.size() > 2 && t.host.front() == '[' && t.host.back() == ']') {
        t.host = t.host.substr(1, t.host.size() - 2);
    }
    if (curl_url_get(u.get(), CURLUPART_PORT, &raw, CURLU_DEFAULT_PORT) == CURLUE_OK) {
        curl::CurlString port(raw);
        t.port = std::atoi(port.get());
    }
    if (t.host.empty() || t.port <= 0 || t.port > 65535) {
        error = "invalid_url";
        return std::nullopt;
    }
    if (net::is_restricted_port(t.port)) {
        error = "restricted_port: port " + std::to_string(t.port) +
                " is one browsers do not connect to (mail, IRC, ...)";
        return std::nullopt;
    }
    return t;
}

Transfer::Transfer(std::int64_t id, Kind kind, int timeout_seconds, long spent_ms)
    : id_(id),
      kind_(kind),
      timeout_seconds_(timeout_seconds),
      time_left_ms_(std::max(1L, static_cast<long>(timeout_seconds) * 1000L - spent_ms)),
      deadline_(std::chrono::steady_clock::now() + std::chrono::milliseconds(time_left_ms_)),
      easy_(curl::make_easy()) {}

std::size_t Transfer::discard(char*, std::size_t size, std::size_t n, void*) {
    return size * n;  // the receiver's answer body is not used
}

std::size_t Transfer::on_header(char* line, std::size_t size, std::size_t n, void* self) {
    auto* t = static_cast<Transfer*>(self);
    const std::size_t len = size * n;
    const std::string_view text(line, len);
    if (text != "\r\n" && text != "\n") return len;
    // The end of one answer's headers. "Any 2xx is delivered": once a
    // final 2xx's headers are in, the receiver has taken the notification;
    // its body is not used, and waiting for it would let a receiver that
    // stalls or drops it turn a delivery into a timeout or a failure.
    long code = 0;
    curl_easy_getinfo(t->easy_.get(), CURLINFO_RESPONSE_CODE, &code);
    if (code >= 200 && code < 300) {
        t->answered_2xx_ = true;
        return 0;  // ends the transfer (CURLE_WRITE_ERROR), on purpose
    }
    return len;
}

std::size_t Transfer::read_body(char* buf, std::size_t size, std::size_t n, void* self) {
    auto* t = static_cast<Transfer*>(self);
    const std::size_t len = std::min(size * n, t->body_.size() - t->read_offset_);
    std::memcpy(buf, t->body_.data() + t->read_offset_, len);
    t->read_offset_ += len;
    return len;
}

void Transfer::common_options(const std::string* ca_blob) {
    CURL* h = easy_.get();
    set_ptr(h, CURLOPT_PRIVATE, this);
    set_ptr(h, CURLOPT_ERRORBUFFER, errbuf_.data());
    set(h, CURLOPT_NOSIGNAL, 1L);
    // An https_proxy in the environment must not reroute notifications.
    set(h, CURLOPT_PROXY, "");
    // A backstop only: the deadline is the notifier's (overdue()).
    set(h, CURLOPT_TIMEOUT_MS, time_left_ms_ + kCurlTimeoutSlackMs);
    set(h, CURLOPT_SSL_VERIFYPEER, 1L);
    set(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (ca_blob != nullptr && !ca_blob->empty()) {
        curl_blob blob{const_cast<char*>(ca_blob->data()), ca_blob->size(), CURL_BLOB_COPY};
        if (curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob) != CURLE_OK) {
            throw std::runtime_error("curl_easy_setopt CAINFO_BLOB failed");
        }
    }
    set_ptr(h, CURLOPT_WRITEFUNCTION, &Transfer::discard);
}

std::unique_ptr<Transfer> Transfer::webhook(std::int64_t notification_id, WebhookRequest req) {
    std::unique_ptr<Transfer> t(
        new Transfer(notification_id, Kind::webhook, req.timeout_seconds, req.lookup_ms));
    t->body_ = std::move(req.body);
    CURL* h = t->easy_.get();
    t->common_options(req.ca_blob);
    set(h, CURLOPT_URL, req.url.c_str());
    set(h, CURLOPT_PROTOCOLS_STR, "https");
    set(h, CURLOPT_FOLLOWLOCATION, 0L);
    set(h, CURLOPT_POST, 1L);
    set_ptr(h, CURLOPT_POSTFIELDS, t->body_.data());
    if (curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(t->body_.size())) != CURLE_OK) {
        throw std::runtime_error("curl_easy_setopt failed");
    }
    t->headers_.append("Content-Type: application/json");
    t->headers_.append("Expect:");  // no 100-continue round trip
    for (const auto& [name, value] : req.extra_headers) t->headers_.append(name + ": " + value);
    set_ptr(h, CURLOPT_HTTPHEADER, t->headers_.get());
    set(h, CURLOPT_USERAGENT, "enconvert-webhook/1");
    set_ptr(h, CURLOPT_HEADERFUNCTION, &Transfer::on_header);
    set_ptr(h, CURLOPT_HEADERDATA, t.get());
    // Only to the addresses the policy checked (outbound/address_pin.h);
    // the label keeps the handles of the notifier's multi handle apart.
    t->pin_ = std::make_unique<outbound::AddressPin>(
        "n" + std::to_string(notification_id), req.target.host, req.target.port, req.addresses);
    // Connecting bounded by the delivery's own time, not the backstop's 60 s
    // more.
    t->pin_->apply(h, t->time_left_ms_);
    return t;
}

std::unique_ptr<Transfer> Transfer::smtp(std::int64_t notification_id, SmtpRequest req) {
    std::unique_ptr<Transfer> t(new Transfer(notification_id, Kind::smtp, req.timeout_seconds));
    t->body_ = std::move(req.message);
    CURL* h = t->easy_.get();
    t->common_options(req.ca_blob);
    set(h, CURLOPT_URL, req.smtp_url.c_str());
    set(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    // smtps:// is TLS from the first byte; smtp:// upgrades with STARTTLS.
    // With credentials the upgrade is required: anyone on the path could
    // strip the relay's STARTTLS offer and read the password (and the
    // messages' download links). Without, it is taken when offered (a
    // local relay often has none).
    const bool credentials = smtp_url_credentials(req.smtp_url).user || !req.password.empty();
    set(h, CURLOPT_USE_SSL, static_cast<long>(credentials ? CURLUSESSL_ALL : CURLUSESSL_TRY));
    if (!req.password.empty()) set(h, CURLOPT_PASSWORD, req.password.c_str());
    set(h, CURLOPT_MAIL_FROM, ("<" + req.from + ">").c_str());
    t->recipients_.append("<" + req.to + ">");
    set_ptr(h, CURLOPT_MAIL_RCPT, t->recipients_.get());
    set(h, CURLOPT_UPLOAD, 1L);
    set_ptr(h, CURLOPT_READFUNCTION, &Transfer::read_body);
    set_ptr(h, CURLOPT_READDATA, t.get());
    if (curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(t->body_.size())) !=
        CURLE_OK) {
        throw std::runtime_error("curl_easy_setopt failed");
    }
    return t;
}

AttemptOutcome Transfer::outcome(CURLcode rc) const {
    AttemptOutcome o;
    long code = 0;
    curl_easy_getinfo(easy_.get(), CURLINFO_RESPONSE_CODE, &code);
    if (code > 0) o.response_code = static_cast<int>(code);
    std::string detail = errbuf_[0] != '\0' ? errbuf_.data() : curl_easy_strerror(rc);
    if (pin_) detail = pin_->message(std::move(detail));

    if (kind_ == Kind::webhook) {
        if (answered_2xx_ || (rc == CURLE_OK && code >= 200 && code < 300)) {
            o.delivered = true;
            return o;
        }
        if (rc == CURLE_OK) {
            o.error = "http_status: the receiver answered " + std::to_string(code);
            if (code >= 300 && code < 400) o.error += " (redirects are not followed)";
            curl_header* hdr = nullptr;
            if (curl_easy_header(easy_.get(), "Retry-After", 0, CURLH_HEADER, -1, &hdr) ==
                    CURLHE_OK &&
                hdr != nullptr) {
                const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();
                o.retry_after = parse_retry_after(hdr->value, now);
            }
            return o;
        }
    } else if (rc == CURLE_OK) {
        o.delivered = true;
        return o;
    }

    if (rc == CURLE_OPERATION_TIMEDOUT) {
        o.error = "timeout: no complete answer within " + std::to_string(timeout_seconds_) + " s";
    } else if (is_tls_error(rc)) {
        o.error = "tls_error: " + detail;
    } else if (rc == CURLE_COULDNT_CONNECT) {
        o.error = "connect_failed: " + detail;
    } else if (kind_ == Kind::smtp) {
        o.error = "smtp_error: " + detail;
        // 5xx: the relay refused for good (unknown user, policy); 4xx may pass later.
        o.permanent = code >= 500 && code < 600;
    } else {
        o.error = "send_failed: " + detail;
    }
    return o;
}

}  // namespace enconvert::notify
