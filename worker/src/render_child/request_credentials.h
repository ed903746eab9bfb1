// cookies, headers and auth of a render request (docs/api.md): what the
// job's page is loaded with. The values are secrets of the customer: they
// are never logged, and rejections name the field, never its value.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace enconvert::render_child {

struct RequestCookie {
    std::string name;
    std::string value;
    std::string domain;             // empty: host-only cookie of `url`
    std::string url;                // empty: `domain` given
    std::string path;               // empty: "/" (domain) or the URL's directory (url)
    std::optional<double> expires;  // seconds since the epoch; none or -1: session
    bool http_only = false;
    bool secure = false;
    std::string same_site;  // "", "Strict", "Lax", "None"
};

struct RequestCredentials {
    std::vector<RequestCookie> cookies;
    // Extra request headers, `auth` included as its Basic Authorization
    // header: sent to the job's origin only (web_extension/).
    std::vector<std::pair<std::string, std::string>> headers;

    bool empty() const { return cookies.empty() && headers.empty(); }
};

// Reads `cookies`, `headers` and `auth` of `options`. Empty string: fine;
// otherwise a sentence naming the field at fault.
std::string read_credentials(const nlohmann::json& options, RequestCredentials& out);

}  // namespace enconvert::render_child
