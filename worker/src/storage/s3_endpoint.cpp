#include "storage/s3_endpoint.h"

#include <algorithm>
#include <stdexcept>

#include "curl/curl_handles.h"
#include "storage/sigv4.h"

namespace enconvert::storage {

namespace {

using curl::CurlString;
using curl::CurlUrl;

// One part of a parsed URL; empty when the URL does not have it.
std::string part(CURLU* u, CURLUPart what, unsigned flags = 0) {
    char* raw = nullptr;
    if (curl_url_get(u, what, &raw, flags) != CURLUE_OK || raw == nullptr) return {};
    const CurlString owned(raw);
    return owned.get();
}

bool dns_bucket(std::string_view b) {
    return b.size() >= 3 && b.size() <= 63 &&
           std::all_of(b.begin(), b.end(),
                       [](char c) {
                           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                                  c == '.';
                       }) &&
           b.front() != '.' && b.front() != '-' && b.back() != '.' && b.back() != '-' &&
           b.find("..") == std::string_view::npos;
}

bool path_bucket(std::string_view b) {
    return !b.empty() && b.size() <= 255 && std::all_of(b.begin(), b.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.' || c == '_';
    });
}

}  // namespace

S3Endpoint::S3Endpoint(std::string_view endpoint, std::string bucket, bool path_style)
    : bucket_(std::move(bucket)), path_style_(path_style) {
    CurlUrl u(curl_url());
    if (!u) throw std::bad_alloc();
    const std::string text(endpoint);
    if (curl_url_set(u.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK)
        throw std::invalid_argument("is not a URL (expected e.g. https://s3.example.com)");
    scheme_ = part(u.get(), CURLUPART_SCHEME);
    if (scheme_ != "http" && scheme_ != "https")
        throw std::invalid_argument("must start with http:// or https://");
    if (!part(u.get(), CURLUPART_USER).empty() || !part(u.get(), CURLUPART_PASSWORD).empty())
        throw std::invalid_argument(
            "must not hold credentials (use s3_access_key_id and s3_secret_access_key)");
    const std::string path = part(u.get(), CURLUPART_PATH);
    if ((!path.empty() && path != "/") || !part(u.get(), CURLUPART_QUERY).empty() ||
        !part(u.get(), CURLUPART_FRAGMENT).empty())
        throw std::invalid_argument("must be scheme://host[:port] with no path or query");
    const std::string host = part(u.get(), CURLUPART_HOST);
    if (host.empty()) throw std::invalid_argument("has no host");
    // Clients leave the scheme's default port out of Host; so must the
    // signature.
    const std::string port = part(u.get(), CURLUPART_PORT, CURLU_NO_DEFAULT_PORT);
    const std::string host_port = port.empty() ? host : host + ":" + port;
    endpoint_ = scheme_ + "://" + host_port;
    if (path_style_) {
        if (!path_bucket(bucket_))
            throw std::invalid_argument("bucket must be 1 to 255 letters, digits, '.', '_' or '-'");
        host_ = host_port;
    } else {
        if (host.front() == '[')
            throw std::invalid_argument(
                "is an IPv6 address: virtual-host style needs a host name (set "
                "s3_path_style = true)");
        if (!dns_bucket(bucket_))
            throw std::invalid_argument(
                "bucket must be 3 to 63 lower-case letters, digits, '.' or '-' for "
                "virtual-host style (or set s3_path_style = true)");
        host_ = bucket_ + "." + host_port;
    }
}

std::string S3Endpoint::path(std::string_view key) const {
    std::string p = "/";
    if (path_style_) p += sigv4::uri_encode(bucket_, true) + "/";
    return p + sigv4::uri_encode(key, false);
}

std::string S3Endpoint::url(std::string_view key, std::string_view query) const {
    // Put together by hand on purpose: path and query must stay exactly as
    // they were signed, and curl_url_get() would rewrite percent-escapes
    // (%2F → %2f). The parts were checked by curl_url() in the constructor.
    std::string url = scheme_ + "://" + host_ + path(key);
    if (!query.empty()) url += "?" + std::string(query);
    return url;
}

}  // namespace enconvert::storage
