#include "render_child/load_error.h"

#include <gio/gio.h>
#include <libsoup/soup.h>
#include <webkit2/webkit2.h>

#include "render_child/gobject_ptr.h"

namespace enconvert::render_child {

namespace {

struct HostPort {
    std::string host;  // IPv6 without brackets
    int port = -1;     // -1: none in the URL
};

HostPort parse_host(const std::string& url) {
    GUri* uri = g_uri_parse(url.c_str(), G_URI_FLAGS_NONE, nullptr);
    if (!uri) return {url};
    HostPort out{g_uri_get_host(uri) ? g_uri_get_host(uri) : url, g_uri_get_port(uri)};
    g_uri_unref(uri);
    return out;
}

// Names the host as the client gave it, never the address it resolved to:
// an answer must not map internal names to internal addresses.
LoadError blocked_address_error(const std::string& host) {
    return {"blocked_address", "Failed to load page: " + host +
                                   " is on a private or reserved address this service does "
                                   "not connect to"};
}

}  // namespace

std::string host_of(const std::string& url) {
    const HostPort parsed = parse_host(url);
    return parsed.port > 0 ? parsed.host + ":" + std::to_string(parsed.port) : parsed.host;
}

std::string hostname_of(const std::string& url) {
    return parse_host(url).host;
}

LoadError refusal_error(const GateRefusal& refusal, const std::string& url) {
    const std::string host = hostname_of(url);
    switch (refusal.kind) {
        case GateRefusal::Kind::blocked_address:
            return blocked_address_error(host);
        case GateRefusal::Kind::not_found:
            return {"dns_error", "Failed to load page: could not resolve host " + host};
        case GateRefusal::Kind::connect_failed:
            break;
    }
    return {"connection_failed", "Failed to load page: could not connect to " + host_of(url) +
                                     " (" + refusal.detail + ")"};
}

bool is_cancellation(const GError* error) {
    return g_error_matches(error, WEBKIT_NETWORK_ERROR, WEBKIT_NETWORK_ERROR_CANCELLED) ||
           g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

LoadError classify_load_error(const GError* error, const std::string& url) {
    const std::string detail = error && error->message ? error->message : "unknown error";
    // Host without the port, for the DNS sentence.
    const std::string host = hostname_of(url);

    if (!error) return {"load_failed", "Failed to load page: " + detail};
    // libsoup 3 hands WebKit the GResolverError of GLib's resolver as is.
    if (error->domain == G_RESOLVER_ERROR)
        return {"dns_error", "Failed to load page: could not resolve host " + host};
    if (error->domain == G_TLS_ERROR)
        return {"tls_error", "Failed to load page: TLS error with " + host + " (" + detail + ")"};
    if (error->domain == G_IO_ERROR) {
        switch (error->code) {
            case G_IO_ERROR_PROXY_NOT_ALLOWED:  // the gate's refusal, its record gone
                return blocked_address_error(host);
            case G_IO_ERROR_CONNECTION_REFUSED:
            case G_IO_ERROR_HOST_UNREACHABLE:
            case G_IO_ERROR_NETWORK_UNREACHABLE:
            case G_IO_ERROR_TIMED_OUT:
            case G_IO_ERROR_CONNECTION_CLOSED:
                return {"connection_failed", "Failed to load page: could not connect to " +
                                                 host_of(url) + " (" + detail + ")"};
            default:
                break;
        }
    }
    return {"load_failed", "Failed to load page: " + detail};
}

LoadError http_error(const std::string& url, int status) {
    const char* phrase = soup_status_get_phrase(static_cast<guint>(status));
    return {"http_error", "Failed to load page: " + host_of(url) + " answered HTTP " +
                              std::to_string(status) + (phrase ? std::string(" ") + phrase : "")};
}

}  // namespace enconvert::render_child
