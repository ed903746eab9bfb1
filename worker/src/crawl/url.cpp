#include "crawl/url.h"

#include <algorithm>
#include <new>

#include "curl/curl_handles.h"
#include "util/ascii.h"
#include "util/percent_encoding.h"

namespace enconvert::crawl {

namespace {

using curl::CurlString;
using curl::CurlUrl;

// Links carry raw UTF-8 and stray spaces that curl_url_set refuses; encode
// them (and only them) so such links are still followed. Existing %XX stays.
std::string encode_unsafe_bytes(const std::string& in) {
    return util::percent_encode(in, [](unsigned char c) { return c > 0x20 && c < 0x7f; });
}

// Leading/trailing whitespace in href attributes is common and meaningless.
std::string trim(const std::string& s) {
    const auto first = s.find_first_not_of(" \t\r\n\f\v");
    if (first == std::string::npos) return {};
    const auto last = s.find_last_not_of(" \t\r\n\f\v");
    return s.substr(first, last - first + 1);
}

std::optional<std::string> part(CURLU* u, CURLUPart which, unsigned flags = 0) {
    char* raw = nullptr;
    if (curl_url_get(u, which, &raw, flags) != CURLUE_OK || raw == nullptr) return std::nullopt;
    CurlString owned(raw);
    return std::string(owned.get());
}

// A path WebKit reads differently from curl: the URL standard browsers
// follow takes "%2e" for "." in a dot segment and "\" for "/", so
// "/docs/%2e%2e/private" or "/docs/..\private" was checked against robots.txt
// and the patterns as a page under /docs/ and rendered as /private. Such
// links are not followed.
bool read_differently_by_browsers(const std::string& path) {
    if (path.find('\\') != std::string::npos) return true;
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string::npos) end = path.size();
        const std::string segment = util::ascii_lower(path.substr(start, end - start));
        if (segment.find("%2e") != std::string::npos) {
            std::string dots;
            for (std::size_t i = 0; i < segment.size();) {
                const bool escaped = segment.compare(i, 3, "%2e") == 0;
                dots += escaped ? '.' : segment[i];
                i += escaped ? 3 : 1;
            }
            if (dots == "." || dots == "..") return true;
        }
        start = end + 1;
    }
    return false;
}

std::optional<ParsedUrl> finish(CURLU* u) {
    auto scheme = part(u, CURLUPART_SCHEME);
    if (!scheme || (*scheme != "http" && *scheme != "https")) return std::nullopt;
    auto host = part(u, CURLUPART_HOST);
    if (!host || host->empty()) return std::nullopt;
    const std::string lower = util::ascii_lower(*host);
    if (lower != *host && curl_url_set(u, CURLUPART_HOST, lower.c_str(), 0) != CURLUE_OK) {
        return std::nullopt;
    }
    // Fragments never reach the server; credentials in links are not ours to send.
    curl_url_set(u, CURLUPART_FRAGMENT, nullptr, 0);
    curl_url_set(u, CURLUPART_USER, nullptr, 0);
    curl_url_set(u, CURLUPART_PASSWORD, nullptr, 0);
    curl_url_set(u, CURLUPART_OPTIONS, nullptr, 0);

    ParsedUrl p;
    auto port = part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT);
    auto path = part(u, CURLUPART_PATH);
    if (!port || !path || read_differently_by_browsers(*path)) return std::nullopt;
    p.host = lower;
    p.port = std::atoi(port->c_str());
    if (p.port <= 0 || p.port > 65535) return std::nullopt;
    const bool default_port =
        (*scheme == "http" && p.port == 80) || (*scheme == "https" && p.port == 443);
    p.origin = *scheme + "://" + lower + (default_port ? "" : ":" + *port);
    // One spelling per page: "%7e", "%7E" and "~" (or "%c3%a9" and the
    // "%C3%A9" of a raw "é") were rendered as different pages. (Written
    // back into curl's handle, curl would lower-case the escapes again.)
    p.path_query = util::normalize_percent_escapes(path->empty() ? "/" : *path);
    if (auto query = part(u, CURLUPART_QUERY))
        p.path_query += "?" + util::normalize_percent_escapes(*query);
    p.url = p.origin + p.path_query;
    return p;
}

CurlUrl make_url() {
    CurlUrl u(curl_url());
    if (!u) throw std::bad_alloc();
    return u;
}

}  // namespace

std::string canonical_escapes(const std::string& path) {
    return util::normalize_percent_escapes(encode_unsafe_bytes(path));
}

std::optional<ParsedUrl> parse_url(const std::string& url) {
    CurlUrl u = make_url();
    const std::string clean = encode_unsafe_bytes(trim(url));
    if (curl_url_set(u.get(), CURLUPART_URL, clean.c_str(), 0) != CURLUE_OK) return std::nullopt;
    return finish(u.get());
}

std::optional<ParsedUrl> resolve_url(const std::string& base, const std::string& reference) {
    CurlUrl u = make_url();
    if (curl_url_set(u.get(), CURLUPART_URL, base.c_str(), 0) != CURLUE_OK) return std::nullopt;
    const std::string clean = encode_unsafe_bytes(trim(reference));
    if (clean.empty()) return std::nullopt;  // an empty href is the page itself
    // With a URL already set, curl resolves a relative one against it (RFC 3986).
    if (curl_url_set(u.get(), CURLUPART_URL, clean.c_str(), 0) != CURLUE_OK) return std::nullopt;
    return finish(u.get());
}

}  // namespace enconvert::crawl
