// The waiting half of a job: load, HTTP status, wait_for_selector, network
// quiet, fonts, delay. Ends by calling produce_output().
#include <libsoup/soup.h>

#include <memory>

#include "render_child/load_error.h"
#include "render_child/navigation_policy.h"
#include "render_child/page_cleanup_scripts.h"
#include "render_child/page_scripts.h"
#include "render_child/scroll_watch.h"
#include "render_child/settle_rule.h"
#include "render_child/view_slot.h"
#include "render_child/view_slot_internal.h"

namespace enconvert::render_child {

using namespace slot_detail;

void ViewSlot::run_script(const char* body, GVariant* arguments, GAsyncReadyCallback done) {
    webkit_web_view_call_async_javascript_function(view_, body, -1, arguments, kScriptWorld,
                                                   nullptr, cancellable_.get(), done,
                                                   new AsyncTag{this, generation_});
}

ViewSlot* ViewSlot::slot_if_current(gpointer tag, std::optional<Stage> stage) {
    const std::unique_ptr<AsyncTag> owned(static_cast<AsyncTag*>(tag));
    ViewSlot* self = owned->slot;
    if (owned->generation != self->generation_) return nullptr;
    if (stage && self->stage_ != *stage) return nullptr;
    return self;
}

ViewSlot::ScriptReply ViewSlot::take_script_reply(GObject* source, GAsyncResult* result,
                                                  gpointer tag, Stage stage) {
    ScriptReply reply;
    GError* raw = nullptr;
    reply.value.reset(webkit_web_view_call_async_javascript_function_finish(WEBKIT_WEB_VIEW(source),
                                                                            result, &raw));
    GErrorPtr error(raw);
    if (error) reply.error = error->message;
    reply.slot = slot_if_current(tag, stage);
    return reply;
}

std::optional<std::string> ViewSlot::ScriptReply::text() const {
    if (!value || !jsc_value_is_string(value.get())) return std::nullopt;
    GCharPtr chars(jsc_value_to_string(value.get()));
    return std::string(chars ? chars.get() : "");
}

// ---- load ---------------------------------------------------------------

void ViewSlot::on_load_changed(WebKitWebView* view, WebKitLoadEvent event, gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    if (self->stage_ == Stage::Resetting) {
        // Only the about:blank load ends a reset; a late FINISHED of the
        // abandoned job page must not. That one arrives while the view's
        // URI already reads about:blank (a job refused at its response
        // ends with FINISHED after the reset began), so the reset's load
        // must have STARTED first: ending the reset early let the next job
        // start under the reset's own navigation.
        const char* uri = webkit_web_view_get_uri(view);
        if (event == WEBKIT_LOAD_STARTED) self->reset_load_started_ = true;
        if (event == WEBKIT_LOAD_FINISHED && self->reset_load_started_ && uri &&
            g_strcmp0(uri, "about:blank") == 0) {
            self->reset_load_started_ = false;  // one clearing per reset
            self->clear_site_data();
        }
        return;
    }
    if (self->stage_ == Stage::Banding) {
        // Only our own load_html counts (it starts with STARTED); the
        // printed page may have had a navigation of its own in the air.
        const char* uri = webkit_web_view_get_uri(view);
        if (event == WEBKIT_LOAD_STARTED) self->band_load_started_ = true;
        if (event == WEBKIT_LOAD_FINISHED && self->band_load_started_ && uri &&
            g_strcmp0(uri, "about:blank") == 0)
            self->print_bands();
        return;
    }
    if (self->stage_ != Stage::Loading) return;
    // Events of the previous navigation (the reset's about:blank, an
    // abandoned page) can arrive after load_uri: only the job's own
    // navigation, which starts with STARTED, counts. A reset that began
    // inside a load signal (fail at COMMITTED) can even have its
    // about:blank events delivered now; job URLs are never about:blank.
    const char* uri = webkit_web_view_get_uri(view);
    if (uri && g_strcmp0(uri, "about:blank") == 0) return;
    if (event == WEBKIT_LOAD_STARTED) {
        self->job_load_started_ = true;
        return;
    }
    if (!self->job_load_started_) return;
    if (event == WEBKIT_LOAD_COMMITTED) {
        self->job_load_committed_ = true;
        if (WebKitWebResource* main = webkit_web_view_get_main_resource(view)) {
            if (WebKitURIResponse* response = webkit_web_resource_get_response(main))
                self->http_status_ =
                    static_cast<int>(webkit_uri_response_get_status_code(response));
        }
        // The main document's status is final once committed (redirects
        // are followed before): fail now rather than render an error page.
        if (self->job_->fail_on_http_error && self->http_status_ >= 400) {
            const LoadError e = http_error(self->job_->url, self->http_status_);
            self->fail(e.code, e.message);
        }
    } else if (event == WEBKIT_LOAD_FINISHED) {
        self->on_load_finished();
    }
}

// Every navigation of the view's frames (first load, redirects, script
// navigations, iframes) is checked here: a refused one is dropped at once.
// Until the job's document commits, a navigation is the main document's own
// (its redirect chain): refusing it fails the job now instead of after its
// deadline. Later ones (a script navigating away, an iframe) just do not
// happen; the page renders as it is.
gboolean ViewSlot::on_decide_policy(WebKitWebView*, WebKitPolicyDecision* decision,
                                    WebKitPolicyDecisionType type, gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    if (type == WEBKIT_POLICY_DECISION_TYPE_RESPONSE)
        return self->decide_document_type(WEBKIT_RESPONSE_POLICY_DECISION(decision));
    if (type != WEBKIT_POLICY_DECISION_TYPE_NAVIGATION_ACTION &&
        type != WEBKIT_POLICY_DECISION_TYPE_NEW_WINDOW_ACTION)
        return FALSE;
    WebKitNavigationAction* action = webkit_navigation_policy_decision_get_navigation_action(
        WEBKIT_NAVIGATION_POLICY_DECISION(decision));
    if (webkit_navigation_action_get_navigation_type(action) ==
        WEBKIT_NAVIGATION_TYPE_BACK_FORWARD) {
        // The view's history holds its earlier jobs' pages, other tenants'
        // URLs (WebKitGTK cannot clear it): history.back() or go(-n) would
        // load one of them into this job. Our loads are never back/forward.
        webkit_policy_decision_ignore(decision);
        return TRUE;
    }
    const char* uri = webkit_uri_request_get_uri(webkit_navigation_action_get_request(action));
    const std::optional<LoadError> refused = refused_navigation(uri ? uri : "");
    if (type == WEBKIT_POLICY_DECISION_TYPE_NEW_WINDOW_ACTION || refused) {
        // New windows never open in a headless renderer either.
        webkit_policy_decision_ignore(decision);
        if (refused && type == WEBKIT_POLICY_DECISION_TYPE_NAVIGATION_ACTION &&
            self->stage_ == Stage::Loading && !self->job_load_committed_ &&
            !self->is_stale_navigation(uri ? uri : "")) {
            self->note(log::Level::warning, "navigation refused", log::redact_url(uri ? uri : ""));
            self->fail(refused->code, refused->message);
        }
        return TRUE;
    }
    return FALSE;
}

bool ViewSlot::is_stale_navigation(const std::string& uri) const {
    // The job's first navigation is decided before its LOAD_STARTED, so a
    // refused one of the job's own origin (a restricted port) still fails
    // the job at once; its redirects come after LOAD_STARTED.
    return stage_ == Stage::Loading && !job_load_started_ && !same_origin(uri, job_->url);
}

// A failed load of the main frame whose target is refused: the job's URL
// or its redirect (a redirect to file: is cancelled by WebCore and reported
// as a cancellation of the file: URL), or, once the document is there, a
// script navigation or form submission (top.location = …, form.submit())
// the outbound gate turned away. Either way the page meant to show
// something this service does not fetch: the job fails now with the reason
// instead of rendering what is left or waiting for its deadline.
bool ViewSlot::fail_refused_navigation(const std::string& failing) {
    std::optional<LoadError> refused = refused_navigation(failing);
    if (!refused) {
        const std::optional<GateRefusal> refusal =
            gate_.refusal_for(index_, hostname_of(failing), started_us_);
        if (!refusal || refusal->kind != GateRefusal::Kind::blocked_address) return false;
        refused = refusal_error(*refusal, failing);
    }
    note(log::Level::warning, "navigation refused", log::redact_url(failing));
    fail(refused->code, refused->message);
    return true;
}

gboolean ViewSlot::on_load_failed(WebKitWebView*, WebKitLoadEvent event, gchar* failing_uri,
                                  GError* error, gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    const std::string failing = failing_uri ? failing_uri : self->job_ ? self->job_->url : "";
    if (self->is_stale_navigation(failing)) return TRUE;
    if (self->job_running() && self->stage_ != Stage::Banding &&
        self->fail_refused_navigation(failing))
        return TRUE;
    if (is_cancellation(error)) {
        // Usually a newer navigation replaced this one. But before our job's
        // navigation commits nothing can replace it (the old document is
        // about:blank). WebKit 2.50 abandons it this way when its
        // speculative preconnect to the same server rejects the
        // certificate and cancels the connection the load was waiting for;
        // no other signal follows, so left alone the job would wait for its
        // deadline. The next load usually gets the real TLS error.
        const bool orphaned = self->stage_ == Stage::Loading && !self->stopping_load_ &&
                              event == WEBKIT_LOAD_STARTED && self->job_load_started_ &&
                              !self->job_load_committed_;
        if (!orphaned) return TRUE;
        if (self->load_retries_++ < kEngineAbandonedLoadRetries) {
            self->note(log::Level::warning, "load cancelled by the engine; loading again");
            self->reload_source_.reset(g_timeout_add(
                kEngineAbandonedReloadStepMs * static_cast<guint>(self->load_retries_),
                slot_guard<&ViewSlot::on_reload>, self));
        } else {
            self->fail("load_failed",
                       "Failed to load page: the browser engine abandoned the load of " +
                           host_of(failing));
        }
        return TRUE;
    }
    if (self->stage_ == Stage::Banding) {
        self->fail("print_failed",
                   std::string("Failed to print page: header/footer: ") + error->message);
        return TRUE;
    }
    if (self->stage_ != Stage::Loading) return TRUE;  // no error page either way
    self->note(log::Level::warning, "load failed",
               std::string(g_quark_to_string(error->domain)) + " code " +
                   std::to_string(error->code) + ": " + error->message);
    // Since the engine connects only through the gate, DNS and connection
    // failures (and refusals) are the gate's to explain.
    const std::optional<GateRefusal> refusal =
        self->gate_.refusal_for(self->index_, hostname_of(failing), self->started_us_);
    LoadError e = refusal ? refusal_error(*refusal, failing) : classify_load_error(error, failing);
    self->fail(e.code, e.message);
    return TRUE;
}

gboolean ViewSlot::on_load_failed_tls(WebKitWebView*, gchar* failing_uri, GTlsCertificate*,
                                      GTlsCertificateFlags flags, gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    if (self->stage_ != Stage::Loading) return TRUE;
    self->fail("tls_error", "Failed to load page: invalid TLS certificate for " +
                                host_of(failing_uri ? failing_uri : self->job_->url) + " (flags " +
                                std::to_string(static_cast<int>(flags)) + ")");
    return TRUE;
}

void ViewSlot::on_web_process_terminated(WebKitWebView*, WebKitWebProcessTerminationReason reason,
                                         gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    self->note(log::Level::warning, "web process terminated",
               std::to_string(static_cast<int>(reason)));
    if (self->finish_pending_) {
        // The page is printed and no longer needed; the PDF being finished
        // is the job's, and the view is replaced after it (begin_reset). A
        // tiled screenshot's tile: the rest of the page is lost with it.
        self->view_lost_ = true;
        self->web_process_died_ = true;
        self->death_reason_ = reason;
        return;
    }
    if (self->job_running()) self->fail_for_dead_web_process(reason);
    self->recycle_soon();
}

void ViewSlot::on_resource_started(WebKitWebView*, WebKitWebResource* resource, WebKitURIRequest*,
                                   gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    if (!self->job_running()) return;
    self->pending_resources_.insert(resource);
    self->last_network_us_ = g_get_monotonic_time();
    g_signal_connect(resource, "finished", G_CALLBACK(slot_guard<&ViewSlot::on_resource_finished>),
                     self);
}

void ViewSlot::on_resource_finished(WebKitWebResource* resource, gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    g_signal_handlers_disconnect_by_data(resource, self);
    if (self->pending_resources_.erase(resource) > 0)
        self->last_network_us_ = g_get_monotonic_time();
}

void ViewSlot::on_load_finished() {
    load_finished_us_ = g_get_monotonic_time();
    // Hidden while the document loaded, the view painted nothing for the
    // parser's partial layouts. The waits need it shown: rendering updates
    // (requestAnimationFrame, IntersectionObserver callbacks, scroll
    // events) run only in a visible page.
    if (!gtk_widget_get_visible(window_.get())) gtk_widget_show_all(window_.get());
    if (!job_->enable_scroll) {
        after_scroll();
        return;
    }
    stage_ = Stage::Scrolling;
    GVariantDict args;
    g_variant_dict_init(&args, nullptr);
    g_variant_dict_insert(&args, "budget", "d", script_budget_ms());
    g_variant_dict_insert(&args, "probe", "s", kScrollProbeEvent);
    run_script(kScrollScript, g_variant_dict_end(&args), tag_guard<&ViewSlot::on_scroll_done>);
}

double ViewSlot::script_budget_ms() const {
    // The capture itself needs time too: a scroll or an image wait that
    // ate the whole budget would turn a page with one slow image into a
    // timeout instead of a render without it.
    constexpr double kCaptureReserveMs = 2000;
    const double left = job_->budget_seconds * 1000.0 - elapsed_ms() - kCaptureReserveMs;
    return left > 0 ? left : 0;
}

void ViewSlot::on_scroll_done(GObject* source, GAsyncResult* result, gpointer data) {
    const ScriptReply reply = take_script_reply(source, result, data, Stage::Scrolling);
    if (!reply.slot) return;
    // A page that cannot be scrolled still renders as it is.
    if (!reply.value) reply.slot->note(log::Level::warning, "scroll script failed", reply.error);
    reply.slot->after_scroll();
}

void ViewSlot::after_scroll() {
    if (!job_->wait_for_selector.empty())
        wait_for_selector();
    else
        start_settling();
}

// ---- wait_for_selector ---------------------------------------------------

void ViewSlot::wait_for_selector() {
    stage_ = Stage::Selecting;
    GVariantDict args;
    g_variant_dict_init(&args, nullptr);
    g_variant_dict_insert(&args, "selector", "s", job_->wait_for_selector.c_str());
    g_variant_dict_insert(&args, "timeout", "d",
                          static_cast<double>(job_->wait_for_selector_timeout_ms));
    run_script(kWaitForSelectorScript, g_variant_dict_end(&args),
               tag_guard<&ViewSlot::on_selector_done>);
}

void ViewSlot::on_selector_done(GObject* source, GAsyncResult* result, gpointer data) {
    const ScriptReply reply = take_script_reply(source, result, data, Stage::Selecting);
    ViewSlot* self = reply.slot;
    if (!self) return;
    const std::string verdict = reply.text().value_or("");
    const std::string& selector = self->job_->wait_for_selector;
    if (verdict == "found") {
        self->start_settling();
    } else if (verdict == "invalid") {
        self->fail("invalid_request", "Invalid render request: wait_for_selector \"" + selector +
                                          "\" is not a valid CSS selector");
    } else if (verdict == "timeout") {
        self->fail("selector_not_found",
                   "Failed to render page: selector \"" + selector + "\" did not appear within " +
                       std::to_string(self->job_->wait_for_selector_timeout_ms) + " ms");
    } else {
        self->note(log::Level::warning, "selector script failed", reply.error);
        self->fail("load_failed", "Failed to render page: the page could not be inspected");
    }
}

// ---- network quiet ---------------------------------------------------------

void ViewSlot::start_settling() {
    stage_ = Stage::Settling;
    if (job_->wait_until == WaitUntil::Load) {
        settle_reason_ = "wait_until load";
        run_images_wait();
        return;
    }
    // First, whether the page can still start requests by itself
    // (settle_rule.h): its document, then its source.
    GVariantDict args;
    g_variant_dict_init(&args, nullptr);
    g_variant_dict_insert(&args, "maxSource", "d", kMaxSearchedSourceBytes);
    run_script(kInertPageScript, g_variant_dict_end(&args), tag_guard<&ViewSlot::on_inert_checked>);
}

void ViewSlot::on_inert_checked(GObject* source, GAsyncResult* result, gpointer data) {
    const ScriptReply reply = take_script_reply(source, result, data, Stage::Settling);
    ViewSlot* self = reply.slot;
    if (!self) return;
    // The script answers why the page may still start requests, or "".
    const std::optional<std::string> reason = reply.text();
    WebKitWebResource* main = webkit_web_view_get_main_resource(self->view_);
    if (!reason || !reason->empty() || !main) {
        self->settle_reason_ = !reason ? "check failed" : !reason->empty() ? *reason : "no source";
        on_settle_tick(self);
        return;
    }
    webkit_web_resource_get_data(main, self->cancellable_.get(),
                                 tag_guard<&ViewSlot::on_source_read>,
                                 new AsyncTag{self, self->generation_});
}

void ViewSlot::on_source_read(GObject* source, GAsyncResult* result, gpointer data) {
    GError* raw = nullptr;
    gsize length = 0;
    GCharPtr bytes(reinterpret_cast<gchar*>(
        webkit_web_resource_get_data_finish(WEBKIT_WEB_RESOURCE(source), result, &length, &raw)));
    GErrorPtr error(raw);
    ViewSlot* self = slot_if_current(data, Stage::Settling);
    if (!self) return;
    self->page_inert_ = bytes && !source_may_run_script(std::string_view(bytes.get(), length));
    self->settle_reason_ = !bytes              ? "source unreadable"
                           : self->page_inert_ ? "inert"
                                               : "script in source";
    // Counted from the last network activity, not from load-finished: a
    // page that was already quiet for a while is not made to wait again.
    on_settle_tick(self);
}

gboolean ViewSlot::on_settle_tick(gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    self->settle_timer_.release();
    const gint64 now = g_get_monotonic_time();
    const gint64 quiet_for = now - self->last_network_us_;
    const gint64 needed = self->page_inert_ ? kInertQuietUs : kQuietUs;
    const bool capped = now - self->load_finished_us_ >= kSettleCapUs;
    if ((self->pending_resources_.empty() && quiet_for >= needed) || capped) {
        if (capped) self->note(log::Level::warning, "network never went quiet; capturing anyway");
        self->run_images_wait();
        return G_SOURCE_REMOVE;
    }
    // Sleep exactly until the quiet period could end; with requests in
    // flight, look again shortly (their end re-starts the count).
    const gint64 wait_us =
        self->pending_resources_.empty() ? needed - quiet_for : kSettlePollMs * 1000;
    const guint wait_ms = static_cast<guint>((wait_us + 999) / 1000);
    self->settle_timer_.reset(g_timeout_add(wait_ms, slot_guard<&ViewSlot::on_settle_tick>, self));
    return G_SOURCE_REMOVE;
}

// ---- images, fonts and delay ----------------------------------------------

void ViewSlot::run_images_wait() {
    if (!job_->wait_for_images || !job_->load_media) {
        run_fonts_script();
        return;
    }
    stage_ = Stage::Scripting;
    GVariantDict args;
    g_variant_dict_init(&args, nullptr);
    g_variant_dict_insert(&args, "budget", "d", script_budget_ms());
    run_script(kWaitForImagesScript, g_variant_dict_end(&args),
               tag_guard<&ViewSlot::on_images_done>);
}

void ViewSlot::on_images_done(GObject* source, GAsyncResult* result, gpointer data) {
    const ScriptReply reply = take_script_reply(source, result, data, Stage::Scripting);
    ViewSlot* self = reply.slot;
    if (!self) return;
    JSCValue* value = reply.value.get();
    if (!value)
        self->note(log::Level::warning, "image wait script failed", reply.error);
    else if (jsc_value_is_number(value) && jsc_value_to_int32(value) > 0)
        self->note(log::Level::warning, "images still loading at the end of their wait",
                   std::to_string(jsc_value_to_int32(value)));
    self->run_fonts_script();
}

void ViewSlot::run_fonts_script() {
    stage_ = Stage::Scripting;
    run_script(kFontsReadyScript, nullptr, tag_guard<&ViewSlot::on_script_done>);
}

void ViewSlot::on_script_done(GObject* source, GAsyncResult* result, gpointer data) {
    const ScriptReply reply = take_script_reply(source, result, data, Stage::Scripting);
    if (!reply.slot) return;
    // A page whose script fails still renders; fonts may just be late.
    if (!reply.value)
        reply.slot->note(log::Level::warning, "fonts.ready script failed", reply.error);
    reply.slot->start_delay();
}

void ViewSlot::start_delay() {
    if (job_->delay_ms <= 0) {
        clean_up_page();
        return;
    }
    stage_ = Stage::Delaying;
    delay_timer_.reset(g_timeout_add(static_cast<guint>(job_->delay_ms),
                                     slot_guard<&ViewSlot::on_delay_done>, this));
}

gboolean ViewSlot::on_delay_done(gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    self->delay_timer_.release();
    if (self->stage_ == Stage::Delaying) self->clean_up_page();
    return G_SOURCE_REMOVE;
}

// ---- consent banners ----------------------------------------------------

// Last, right before the capture: consent managers often show their banner
// a while after load. handle_sticky_header has nothing to do here: WebKit
// already prints a fixed or sticky header once, on the first page, and a
// full-page screenshot draws it once at the top (docs/rendering.md).
void ViewSlot::clean_up_page() {
    if (!job_->handle_cookies) {
        produce_output();
        return;
    }
    stage_ = Stage::Cleaning;
    GVariantDict args;
    g_variant_dict_init(&args, nullptr);
    g_variant_dict_insert(&args, "consent", "d", 1.0);
    run_script(kPageCleanupScript, g_variant_dict_end(&args),
               tag_guard<&ViewSlot::on_cleanup_done>);
}

void ViewSlot::on_cleanup_done(GObject* source, GAsyncResult* result, gpointer data) {
    const ScriptReply reply = take_script_reply(source, result, data, Stage::Cleaning);
    if (!reply.slot) return;
    if (!reply.value)
        reply.slot->note(log::Level::warning, "page cleanup script failed", reply.error);
    reply.slot->produce_output();
}

}  // namespace enconvert::render_child
