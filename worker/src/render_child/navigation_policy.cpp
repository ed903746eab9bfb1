#include "render_child/navigation_policy.h"

#include <glib.h>

#include "net/restricted_ports.h"

namespace enconvert::render_child {

bool same_origin(const std::string& a, const std::string& b) {
    // SCHEME_NORMALIZE drops a scheme's default port and lowercases the
    // host, so http://Example.org:80/ and http://example.org/x compare equal.
    const auto parse = [](const std::string& uri) {
        return g_uri_parse(uri.c_str(), G_URI_FLAGS_SCHEME_NORMALIZE, nullptr);
    };
    GUri* x = parse(a);
    GUri* y = parse(b);
    const bool same = x && y && g_strcmp0(g_uri_get_scheme(x), g_uri_get_scheme(y)) == 0 &&
                      g_ascii_strcasecmp(g_uri_get_host(x) ? g_uri_get_host(x) : "",
                                         g_uri_get_host(y) ? g_uri_get_host(y) : "") == 0 &&
                      g_uri_get_port(x) == g_uri_get_port(y);
    if (x) g_uri_unref(x);
    if (y) g_uri_unref(y);
    return same;
}

std::optional<LoadError> refused_navigation(const std::string& uri) {
    if (uri == "about:blank") return std::nullopt;
    GUri* parsed = g_uri_parse(uri.c_str(), G_URI_FLAGS_NONE, nullptr);
    if (!parsed) return LoadError{"load_failed", "Failed to load page: the address is not a URL"};
    const std::string scheme = g_uri_get_scheme(parsed) ? g_uri_get_scheme(parsed) : "";
    const std::string host = g_uri_get_host(parsed) ? g_uri_get_host(parsed) : "";
    const int port = g_uri_get_port(parsed);
    g_uri_unref(parsed);
    if (scheme != "http" && scheme != "https")
        return LoadError{"blocked_address", "Failed to load page: the page navigated to a " +
                                                scheme + ": URL, which this service does not load"};
    if (port > 0 && net::is_restricted_port(port))
        return LoadError{"connection_failed", "Failed to load page: port " + std::to_string(port) +
                                                  " of " + host +
                                                  " is restricted (browsers do not connect to it)"};
    return std::nullopt;
}

}  // namespace enconvert::render_child
