#include "storage/presign.h"

#include <chrono>

#include "util/crypto.h"

namespace enconvert::storage {

std::string presign_signature(std::string_view secret, std::string_view object_key,
                              std::int64_t expires) {
    std::string canonical = "GET\n/v1/files/";
    canonical += object_key;
    canonical += '\n';
    canonical += std::to_string(expires);
    return util::hmac_sha256_hex(secret, canonical);
}

std::string presign_url(std::string_view base, std::string_view object_key, std::int64_t expires,
                        std::string_view secret) {
    while (!base.empty() && base.back() == '/') base.remove_suffix(1);
    // Object keys are limited to [A-Za-z0-9._/-]: no percent-encoding needed.
    std::string url(base);
    url += "/v1/files/";
    url += object_key;
    url += "?expires=" + std::to_string(expires);
    url += "&signature=" + presign_signature(secret, object_key, expires);
    return url;
}

namespace {

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

std::string Presigner::url(std::string_view job_base_url, std::string_view object_key) const {
    return url_at(job_base_url, object_key, unix_now());
}

std::optional<std::string> Presigner::attachment_url(std::string_view object_key,
                                                     std::string_view filename) const {
    if (!s3_) return std::nullopt;
    return s3_->url_at(object_key, unix_now(), ttl_, filename);
}

std::string Presigner::url_at(std::string_view job_base_url, std::string_view object_key,
                              std::int64_t now_unix) const {
    if (s3_) return s3_->url_at(object_key, now_unix, ttl_);
    const std::string_view base = public_url_.empty() ? job_base_url : public_url_;
    return presign_url(base, object_key, now_unix + ttl_, secret_);
}

}  // namespace enconvert::storage
