#include "service_settings.h"

#include <curl/curl.h>

#include "cli_error.h"
#include "curl/curl_handles.h"

namespace enconvert::cli {

namespace {

std::string url_part(CURLU* url, CURLUPart which) {
    char* text = nullptr;
    if (curl_url_get(url, which, &text, 0) != CURLUE_OK) return "";
    curl::CurlString owned(text);
    return owned.get();
}

CliError bad_url(const std::string& base_url, const std::string& why) {
    return CliError(ExitCode::usage, "ENCONVERT_URL \"" + base_url + "\" " + why +
                                         " (expected e.g. " + kDefaultBaseUrl + ")");
}

}  // namespace

std::string normalized_base_url(const std::string& base_url) {
    curl::CurlUrl url(curl_url());
    if (!url) throw std::bad_alloc();
    if (curl_url_set(url.get(), CURLUPART_URL, base_url.c_str(), 0) != CURLUE_OK) {
        throw bad_url(base_url, "is not a URL");
    }
    const std::string scheme = url_part(url.get(), CURLUPART_SCHEME);
    if (scheme != "http" && scheme != "https") throw bad_url(base_url, "is not an http(s) URL");
    if (!url_part(url.get(), CURLUPART_QUERY).empty() ||
        !url_part(url.get(), CURLUPART_FRAGMENT).empty()) {
        throw bad_url(base_url, "must not have a query or a fragment");
    }
    if (!url_part(url.get(), CURLUPART_USER).empty() ||
        !url_part(url.get(), CURLUPART_PASSWORD).empty()) {
        throw bad_url(base_url, "must not hold credentials (the key goes in ENCONVERT_API_KEY)");
    }
    std::string path = url_part(url.get(), CURLUPART_PATH);
    while (!path.empty() && path.back() == '/') path.pop_back();
    curl_url_set(url.get(), CURLUPART_PATH, path.empty() ? "/" : path.c_str(), 0);
    std::string normalized = url_part(url.get(), CURLUPART_URL);
    while (!normalized.empty() && normalized.back() == '/') normalized.pop_back();
    return normalized;
}

ServiceSettings settings_from_environment(const std::function<const char*(const char*)>& getenv) {
    ServiceSettings settings;
    const char* base = getenv("ENCONVERT_URL");
    settings.base_url =
        normalized_base_url(base != nullptr && *base != '\0' ? base : kDefaultBaseUrl);
    const char* key = getenv("ENCONVERT_API_KEY");
    if (key == nullptr || *key == '\0') {
        throw CliError(ExitCode::authentication,
                       "ENCONVERT_API_KEY is not set: export the API key (sk_live_…) to use");
    }
    settings.api_key = key;
    // It goes into a header line: a space or line break would break the
    // request rather than be refused by the server.
    for (char c : settings.api_key) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte >= 0x7f) {
            throw CliError(ExitCode::authentication,
                           "ENCONVERT_API_KEY contains spaces or characters no API key has");
        }
    }
    return settings;
}

std::string api_url(const ServiceSettings& settings, const std::string& path) {
    return settings.base_url + "/" + path;
}

}  // namespace enconvert::cli
