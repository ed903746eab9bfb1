#include "render_child/navigation_policy.h"

#include <glib.h>

#include <algorithm>
#include <iterator>

namespace enconvert::render_child {

namespace {

constexpr int kBadPorts[] = {1,    7,    9,    11,   13,   15,   17,   19,   20,   21,   22,   23,
                             25,   37,   42,   43,   53,   69,   77,   79,   87,   95,   101,  102,
                             103,  104,  109,  110,  111,  113,  115,  117,  119,  123,  135,  137,
                             139,  143,  161,  179,  389,  427,  465,  512,  513,  514,  515,  526,
                             530,  531,  532,  540,  548,  554,  556,  563,  587,  601,  636,  989,
                             990,  993,  995,  1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061,
                             6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080};

}  // namespace

bool is_restricted_port(int port) {
    return std::find(std::begin(kBadPorts), std::end(kBadPorts), port) != std::end(kBadPorts);
}

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
    if (port > 0 && is_restricted_port(port))
        return LoadError{"connection_failed", "Failed to load page: port " + std::to_string(port) +
                                                  " of " + host +
                                                  " is restricted (browsers do not connect to it)"};
    return std::nullopt;
}

}  // namespace enconvert::render_child
