// Before a job's URL is loaded: its cookies go into the view's cookie jar
// and its extra headers to the page's web process extension
// (web_extension/request_headers.cpp). The load starts once every step has
// answered, so the first request already carries them. The jar is emptied
// with the rest of the website data after the job (ViewSlot::begin_reset);
// the page's headers are replaced by the next job's list (empty or not).
#include <libsoup/soup.h>

#include "render_child/binary_dir.h"
#include "render_child/view_slot.h"
#include "render_child/view_slot_internal.h"
#include "render_child/web_extension/request_headers_message.h"

namespace enconvert::render_child {
using namespace slot_detail;

namespace {

struct CookieFree {
    void operator()(SoupCookie* c) const {
        if (c) soup_cookie_free(c);
    }
};
using CookiePtr = std::unique_ptr<SoupCookie, CookieFree>;

// A cookie as Playwright's add_cookies takes it: `url` makes a host-only
// cookie of that host, with the URL's directory as path and `secure` for
// https; `domain` without `path` gets "/".
CookiePtr soup_cookie_of(const RequestCookie& c) {
    std::string domain = c.domain;
    std::string path = c.path;
    bool secure = c.secure;
    if (!c.url.empty()) {
        GUriPtr uri(g_uri_parse(c.url.c_str(), G_URI_FLAGS_NONE, nullptr));
        if (!uri || !g_uri_get_host(uri.get())) return nullptr;
        domain = g_uri_get_host(uri.get());
        if (path.empty()) {
            const std::string p = g_uri_get_path(uri.get());
            const auto slash = p.rfind('/');
            path = slash == std::string::npos || slash == 0 ? "/" : p.substr(0, slash);
        }
        secure = secure || g_ascii_strcasecmp(g_uri_get_scheme(uri.get()), "https") == 0;
    }
    if (path.empty()) path = "/";
    CookiePtr cookie(
        soup_cookie_new(c.name.c_str(), c.value.c_str(), domain.c_str(), path.c_str(), -1));
    if (c.expires && *c.expires >= 0) {
        GDateTime* when = g_date_time_new_from_unix_utc(static_cast<gint64>(*c.expires));
        if (when) {
            soup_cookie_set_expires(cookie.get(), when);
            g_date_time_unref(when);
        }
    }
    soup_cookie_set_http_only(cookie.get(), c.http_only);
    soup_cookie_set_secure(cookie.get(), secure);
    if (c.same_site == "Strict")
        soup_cookie_set_same_site_policy(cookie.get(), SOUP_SAME_SITE_POLICY_STRICT);
    else if (c.same_site == "Lax")
        soup_cookie_set_same_site_policy(cookie.get(), SOUP_SAME_SITE_POLICY_LAX);
    else if (c.same_site == "None")
        soup_cookie_set_same_site_policy(cookie.get(), SOUP_SAME_SITE_POLICY_NONE);
    return cookie;
}

}  // namespace

void ViewSlot::load_job_page() {
    const RequestCredentials& creds = job_->credentials;
    // One step per cookie and one for the headers; a guard step keeps the
    // count above zero until every step has been started.
    credential_steps_ = 1;
    WebKitCookieManager* jar = webkit_website_data_manager_get_cookie_manager(
        webkit_web_context_get_website_data_manager(context_.get()));
    for (const RequestCookie& c : creds.cookies) {
        CookiePtr cookie = soup_cookie_of(c);
        if (!cookie) continue;
        ++credential_steps_;
        webkit_cookie_manager_add_cookie(jar, cookie.get(), cancellable_.get(),
                                         tag_guard<&ViewSlot::on_cookie_added>,
                                         new AsyncTag{this, generation_});
    }
    // The page keeps the last list it was given: a job without headers after
    // one with them must clear it.
    if (!creds.headers.empty() || page_has_headers_) {
        GVariantBuilder list;
        g_variant_builder_init(&list, G_VARIANT_TYPE("a(ss)"));
        for (const auto& [name, value] : creds.headers)
            g_variant_builder_add(&list, "(ss)", name.c_str(), value.c_str());
        WebKitUserMessage* message = webkit_user_message_new(
            kRequestHeadersMessage, g_variant_new("(sa(ss))", job_->url.c_str(), &list));
        page_has_headers_ = !creds.headers.empty();
        ++credential_steps_;
        webkit_web_view_send_message_to_page(view_, message, cancellable_.get(),
                                             tag_guard<&ViewSlot::on_headers_sent>,
                                             new AsyncTag{this, generation_});
    }
    credential_step_done();
}

void ViewSlot::credential_step_done() {
    if (--credential_steps_ == 0 && stage_ == Stage::Loading)
        webkit_web_view_load_uri(view_, job_->url.c_str());
}

void ViewSlot::on_cookie_added(GObject* source, GAsyncResult* result, gpointer data) {
    GError* raw = nullptr;
    const gboolean ok =
        webkit_cookie_manager_add_cookie_finish(WEBKIT_COOKIE_MANAGER(source), result, &raw);
    GErrorPtr error(raw);
    ViewSlot* self = slot_if_current(data);
    if (!self) return;
    if (!ok) {
        // The name is the customer's; the value never goes into a log.
        self->fail("invalid_request", "Invalid render request: a cookie could not be set");
        return;
    }
    self->credential_step_done();
}

void ViewSlot::on_headers_sent(GObject* source, GAsyncResult* result, gpointer data) {
    GError* raw = nullptr;
    GObjectPtr<WebKitUserMessage> reply(
        webkit_web_view_send_message_to_page_finish(WEBKIT_WEB_VIEW(source), result, &raw));
    GErrorPtr error(raw);
    ViewSlot* self = slot_if_current(data);
    if (!self) return;
    if (!reply) {
        // Without the extension's reply the page might send the headers to
        // nobody or keep an older list: never load it that way.
        self->note(log::Level::error, "request headers not taken by the page",
                   error ? error->message : "");
        self->fail("load_failed", "Failed to load page: the request headers could not be set");
        return;
    }
    self->credential_step_done();
}

// An HTTP challenge (401, 407) is never answered: `auth` goes up front to
// its origin only (credentials given here would stay in the network
// session's cache, which clearing website data does not empty, for the
// next job on the view). Going on without credentials renders the site's
// 401 page (or fails with http_error); WebKit's default handler would show
// a dialog nobody answers and hold the load until the job's timeout.
gboolean ViewSlot::on_authenticate(WebKitWebView*, WebKitAuthenticationRequest* request, gpointer) {
    webkit_authentication_request_authenticate(request, nullptr);
    return TRUE;
}

void ViewSlot::use_web_extension() {
    const std::string dir = binary_dir();
    if (dir.empty()) return;
    GCharPtr extensions(g_build_filename(dir.c_str(), kWebExtensionDir, nullptr));
    webkit_web_context_set_web_extensions_directory(context_.get(), extensions.get());
}

}  // namespace enconvert::render_child
