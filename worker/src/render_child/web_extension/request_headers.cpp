// Web process extension of enconvert-render: adds a job's extra request
// headers (`headers`, and `auth` as a Basic Authorization header) to every
// request to the job's own origin — the document, its sub-resources and
// redirects — and to nothing else. WebKitGTK's UI process can only set
// headers on the main request; "send-request" of WebKitWebPage sees every
// request of the page, redirects included, in the web process.
//
// A redirect from the target's origin to another one arrives here with the
// headers of the first request copied onto it: they are removed, so an
// Authorization (or a tenant's API header) never follows a redirect off
// the origin it was meant for.
//
// The same hook drops the user info of URLs and every inspector:// request.
#include <webkit2/webkit-web-extension.h>

#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "render_child/glib_ptr.h"
#include "render_child/web_extension/request_headers_message.h"

namespace {

using enconvert::render_child::GCharPtr;
using enconvert::render_child::GUriPtr;
using enconvert::render_child::kRequestHeadersMessage;
using enconvert::render_child::kRequestHeadersSignature;

// scheme://host:port with the scheme's default port filled in; empty for
// anything that is not http(s).
std::string origin_of(const char* uri) {
    if (!uri) return {};
    GUriPtr parsed(g_uri_parse(uri, G_URI_FLAGS_NONE, nullptr));
    if (!parsed || !g_uri_get_host(parsed.get())) return {};
    std::string scheme = g_uri_get_scheme(parsed.get());
    for (char& c : scheme) c = g_ascii_tolower(c);
    if (scheme != "http" && scheme != "https") return {};
    int port = g_uri_get_port(parsed.get());
    if (port < 0) port = scheme == "https" ? 443 : 80;
    char* host = g_ascii_strdown(g_uri_get_host(parsed.get()), -1);
    std::string origin = scheme + "://" + host + ":" + std::to_string(port);
    g_free(host);
    return origin;
}

// What one page sends, kept as the page's object data.
struct PageHeaders {
    std::string origin;
    std::vector<std::pair<std::string, std::string>> headers;
};

constexpr const char* kDataKey = "enconvert-page-headers";

PageHeaders* headers_of(WebKitWebPage* page) {
    return static_cast<PageHeaders*>(g_object_get_data(G_OBJECT(page), kDataKey));
}

// A page's own credentials in a URL (`user:password@` in a sub-resource, an
// XHR's user and password, which arrive the same way) would be answered by
// the engine's network session and kept in its credential cache, which
// clearing the website data does not empty: the view's next jobs, other
// tenants', would send them. Requests go without them (a job's own URL never
// has any, the API refuses it; `auth` is the way to send credentials).
void drop_user_info(WebKitURIRequest* request) {
    const char* uri = webkit_uri_request_get_uri(request);
    if (!uri || !std::strchr(uri, '@')) return;
    GUriPtr parsed(g_uri_parse(uri, G_URI_FLAGS_ENCODED, nullptr));
    if (!parsed || !g_uri_get_userinfo(parsed.get())) return;
    GUriPtr bare(g_uri_build(G_URI_FLAGS_ENCODED, g_uri_get_scheme(parsed.get()), nullptr,
                             g_uri_get_host(parsed.get()), g_uri_get_port(parsed.get()),
                             g_uri_get_path(parsed.get()), g_uri_get_query(parsed.get()),
                             g_uri_get_fragment(parsed.get())));
    const GCharPtr text(g_uri_to_string(bare.get()));
    webkit_uri_request_set_uri(request, text.get());
}

// WebKit answers inspector:// URLs in its UI process (the renderer child)
// by connecting to the host and port they name with a socket of its own
// (its remote inspector client), past the views' proxy settings; no page
// needs them. (Registering the scheme again in the UI process does not
// replace WebKit's handler.)
bool is_inspector_url(const char* uri) {
    return uri && g_ascii_strncasecmp(uri, "inspector:", 10) == 0;
}

gboolean on_send_request(WebKitWebPage* page, WebKitURIRequest* request,
                         WebKitURIResponse* redirected_response, gpointer) {
    if (is_inspector_url(webkit_uri_request_get_uri(request))) return TRUE;  // not sent
    drop_user_info(request);
    const PageHeaders* config = headers_of(page);
    if (!config || config->headers.empty()) return FALSE;
    SoupMessageHeaders* headers = webkit_uri_request_get_http_headers(request);
    if (!headers) return FALSE;
    if (origin_of(webkit_uri_request_get_uri(request)) == config->origin) {
        for (const auto& [name, value] : config->headers)
            soup_message_headers_replace(headers, name.c_str(), value.c_str());
    } else if (redirected_response &&
               origin_of(webkit_uri_response_get_uri(redirected_response)) == config->origin) {
        // Carried over from the request to the target: ours, not the page's.
        for (const auto& [name, value] : config->headers)
            soup_message_headers_remove(headers, name.c_str());
    }
    return FALSE;  // let the request go on
}

gboolean on_user_message(WebKitWebPage* page, WebKitUserMessage* message, gpointer) {
    if (g_strcmp0(webkit_user_message_get_name(message), kRequestHeadersMessage) != 0) return FALSE;
    GVariant* parameters = webkit_user_message_get_parameters(message);
    auto config = std::make_unique<PageHeaders>();
    if (parameters && g_variant_is_of_type(parameters, G_VARIANT_TYPE(kRequestHeadersSignature))) {
        const char* url = nullptr;
        GVariantIter* iter = nullptr;
        g_variant_get(parameters, "(&sa(ss))", &url, &iter);
        config->origin = origin_of(url);
        const char* name = nullptr;
        const char* value = nullptr;
        while (g_variant_iter_loop(iter, "(&s&s)", &name, &value))
            config->headers.emplace_back(name, value);
        g_variant_iter_free(iter);
    }
    g_object_set_data_full(G_OBJECT(page), kDataKey, config.release(),
                           [](gpointer p) { delete static_cast<PageHeaders*>(p); });
    // The view waits for this reply before it loads the job's URL.
    webkit_user_message_send_reply(message,
                                   webkit_user_message_new(kRequestHeadersMessage, nullptr));
    return TRUE;
}

void on_page_created(WebKitWebExtension*, WebKitWebPage* page, gpointer) {
    g_signal_connect(page, "send-request", G_CALLBACK(on_send_request), nullptr);
    g_signal_connect(page, "user-message-received", G_CALLBACK(on_user_message), nullptr);
}

}  // namespace

extern "C" G_MODULE_EXPORT void webkit_web_extension_initialize(WebKitWebExtension* extension) {
    g_signal_connect(extension, "page-created", G_CALLBACK(on_page_created), nullptr);
}
