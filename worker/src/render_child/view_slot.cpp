#include "render_child/view_slot.h"

#include <cairo.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "render_child/load_error.h"

namespace enconvert::render_child {
namespace {

// Network quiet: no sub-resource in flight for this long after load finished.
constexpr gint64 kQuietUs = 500 * 1000;
// Pages that never go quiet (polling, streaming) are rendered after this.
constexpr gint64 kSettleCapUs = 5 * 1000 * 1000;
constexpr guint kSettleTickMs = 50;
// A print that signals neither finished nor failed within this is stuck.
constexpr guint kPrintWatchdogMs = 30 * 1000;
constexpr guint kResetWatchdogMs = 15 * 1000;
// Snapshots larger than this per side are cropped.
constexpr int kMaxSnapshotSide = 16384;
// Fresh view + context after this many jobs, bounding leaks in long runs.
constexpr int kJobsPerView = 200;
constexpr double kPaperMarginMm = 10;

const char* const kFontsReadyScript =
    "if (document.fonts && document.fonts.ready) await document.fonts.ready;"
    "return document.title;";

// Carried through async calls: the slot and the generation that started it.
struct AsyncTag {
    ViewSlot* slot;
    std::uint64_t generation;
};

void log(int index, const char* what, const std::string& detail = {}) {
    std::fprintf(stderr, "enconvert-render: view %d: %s%s%s\n", index, what,
                 detail.empty() ? "" : ": ", detail.c_str());
}

}  // namespace

ViewSlot::ViewSlot(int index, std::string printer_name, OnResult on_result, OnIdle on_idle)
    : index_(index),
      printer_name_(std::move(printer_name)),
      on_result_(std::move(on_result)),
      on_idle_(std::move(on_idle)) {
    create_view();
    // Launching the web process costs hundreds of ms; pay it before the
    // first job rather than in it.
    begin_reset();
}

ViewSlot::~ViewSlot() {
    if (print_op_) g_signal_handlers_disconnect_by_data(print_op_.get(), this);
    if (cancellable_) g_cancellable_cancel(cancellable_.get());
    destroy_view();
    if (!temp_path_.empty()) unlink(temp_path_.c_str());
}

void ViewSlot::create_view() {
    ++generation_;
    jobs_on_view_ = 0;
    // Ephemeral: cookies, cache and storage live in memory only and die with
    // the context; between jobs they are also cleared explicitly.
    context_.reset(webkit_web_context_new_ephemeral());
    webkit_web_context_set_cache_model(context_.get(), WEBKIT_CACHE_MODEL_DOCUMENT_VIEWER);
    // Any network request launches the context's network process; a DNS
    // prefetch does so now instead of during the first job's load.
    webkit_web_context_prefetch_dns(context_.get(), "localhost");

    GObjectPtr<WebKitSettings> settings(webkit_settings_new());
    // Liberation fonts are metric-compatible with the usual web fonts and far
    // smaller than DejaVu, which makes printing several times faster.
    webkit_settings_set_default_font_family(settings.get(), "Liberation Sans");
    webkit_settings_set_sans_serif_font_family(settings.get(), "Liberation Sans");
    webkit_settings_set_serif_font_family(settings.get(), "Liberation Serif");
    webkit_settings_set_monospace_font_family(settings.get(), "Liberation Mono");
    webkit_settings_set_print_backgrounds(settings.get(), TRUE);
    webkit_settings_set_hardware_acceleration_policy(settings.get(),
                                                     WEBKIT_HARDWARE_ACCELERATION_POLICY_NEVER);
    webkit_settings_set_enable_developer_extras(settings.get(), FALSE);
    webkit_settings_set_javascript_can_open_windows_automatically(settings.get(), FALSE);

    view_ = WEBKIT_WEB_VIEW(g_object_new(WEBKIT_TYPE_WEB_VIEW, "web-context", context_.get(),
                                         "settings", settings.get(), nullptr));
    window_.reset(gtk_offscreen_window_new());
    gtk_container_add(GTK_CONTAINER(window_.get()), GTK_WIDGET(view_));
    gtk_widget_set_size_request(GTK_WIDGET(view_), 1920, 1080);

    g_signal_connect(view_, "load-changed", G_CALLBACK(&ViewSlot::on_load_changed), this);
    g_signal_connect(view_, "load-failed", G_CALLBACK(&ViewSlot::on_load_failed), this);
    g_signal_connect(view_, "load-failed-with-tls-errors",
                     G_CALLBACK(&ViewSlot::on_load_failed_tls), this);
    g_signal_connect(view_, "web-process-terminated",
                     G_CALLBACK(&ViewSlot::on_web_process_terminated), this);
    g_signal_connect(view_, "resource-load-started", G_CALLBACK(&ViewSlot::on_resource_started),
                     this);
    // Nothing may open a dialog in a headless renderer: alert() or print()
    // would otherwise block the page (or the whole main loop) forever.
    g_signal_connect(
        view_, "script-dialog",
        G_CALLBACK(+[](WebKitWebView*, WebKitScriptDialog*, gpointer) -> gboolean { return TRUE; }),
        nullptr);
    g_signal_connect(view_, "print",
                     G_CALLBACK(+[](WebKitWebView*, WebKitPrintOperation*, gpointer) -> gboolean {
                         return TRUE;
                     }),
                     nullptr);
    g_signal_connect(
        view_, "permission-request",
        G_CALLBACK(+[](WebKitWebView*, WebKitPermissionRequest* request, gpointer) -> gboolean {
            webkit_permission_request_deny(request);
            return TRUE;
        }),
        nullptr);
    gtk_widget_show_all(window_.get());
}

void ViewSlot::destroy_view() {
    ++generation_;
    pending_resources_.clear();
    if (view_) g_signal_handlers_disconnect_by_data(view_, this);
    view_ = nullptr;
    window_.reset();
    context_.reset();
}

bool ViewSlot::job_running() const {
    switch (stage_) {
        case Stage::Loading:
        case Stage::Settling:
        case Stage::Scripting:
        case Stage::Printing:
        case Stage::Snapshotting:
            return true;
        default:
            return false;
    }
}

double ViewSlot::elapsed_ms() const {
    return static_cast<double>(g_get_monotonic_time() - started_us_) / 1000.0;
}

void ViewSlot::start(Job job) {
    ++generation_;
    ++jobs_on_view_;
    job_ = std::move(job);
    stage_ = Stage::Loading;
    started_us_ = g_get_monotonic_time();
    http_status_ = 0;
    pending_resources_.clear();
    print_error_.reset();
    cancellable_.reset(g_cancellable_new());
    temp_path_ = job_->out_path + ".part";

    gtk_widget_set_size_request(GTK_WIDGET(view_), job_->viewport_width, job_->viewport_height);
    gtk_window_resize(GTK_WINDOW(window_.get()), job_->viewport_width, job_->viewport_height);

    const auto budget_ms = static_cast<guint>(job_->timeout_seconds * 1000.0);
    deadline_.reset(g_timeout_add(budget_ms, &ViewSlot::on_deadline, this));
    webkit_web_view_load_uri(view_, job_->url.c_str());
}

// ---- load ---------------------------------------------------------------

void ViewSlot::on_load_changed(WebKitWebView* view, WebKitLoadEvent event, gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    if (self->stage_ == Stage::Resetting) {
        // Only the about:blank load ends a reset; a late FINISHED of the
        // abandoned job page must not.
        const char* uri = webkit_web_view_get_uri(view);
        if (event == WEBKIT_LOAD_FINISHED && uri && g_strcmp0(uri, "about:blank") == 0)
            self->clear_site_data();
        return;
    }
    if (self->stage_ != Stage::Loading) return;
    if (event == WEBKIT_LOAD_COMMITTED) {
        if (WebKitWebResource* main = webkit_web_view_get_main_resource(view)) {
            if (WebKitURIResponse* response = webkit_web_resource_get_response(main))
                self->http_status_ =
                    static_cast<int>(webkit_uri_response_get_status_code(response));
        }
    } else if (event == WEBKIT_LOAD_FINISHED) {
        self->on_load_finished();
    }
}

gboolean ViewSlot::on_load_failed(WebKitWebView*, WebKitLoadEvent, gchar* failing_uri,
                                  GError* error, gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    if (self->stage_ != Stage::Loading) return TRUE;  // no error page either way
    if (is_cancellation(error)) return TRUE;          // replaced by a newer navigation
    log(self->index_, "load failed",
        std::string(g_quark_to_string(error->domain)) + " code " + std::to_string(error->code) +
            ": " + error->message);
    LoadError e = classify_load_error(error, failing_uri ? failing_uri : self->job_->url);
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
    log(self->index_, "web process terminated", std::to_string(static_cast<int>(reason)));
    if (self->job_running()) {
        self->fail("web_process_crashed",
                   reason == WEBKIT_WEB_PROCESS_EXCEEDED_MEMORY_LIMIT
                       ? "Failed to render page: it used too much memory"
                       : "Failed to render page: the browser engine crashed");
    }
    self->recycle_soon();
}

void ViewSlot::on_resource_started(WebKitWebView*, WebKitWebResource* resource, WebKitURIRequest*,
                                   gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    if (!self->job_running()) return;
    self->pending_resources_.insert(resource);
    self->last_network_us_ = g_get_monotonic_time();
    g_signal_connect(resource, "finished", G_CALLBACK(&ViewSlot::on_resource_finished), self);
}

void ViewSlot::on_resource_finished(WebKitWebResource* resource, gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    g_signal_handlers_disconnect_by_data(resource, self);
    if (self->pending_resources_.erase(resource) > 0)
        self->last_network_us_ = g_get_monotonic_time();
}

void ViewSlot::on_load_finished() {
    stage_ = Stage::Settling;
    load_finished_us_ = g_get_monotonic_time();
    last_network_us_ = std::max(last_network_us_, load_finished_us_);
    settle_timer_.reset(g_timeout_add(kSettleTickMs, &ViewSlot::on_settle_tick, this));
}

gboolean ViewSlot::on_settle_tick(gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    const gint64 now = g_get_monotonic_time();
    const bool quiet = self->pending_resources_.empty() && now - self->last_network_us_ >= kQuietUs;
    if (!quiet && now - self->load_finished_us_ < kSettleCapUs) return G_SOURCE_CONTINUE;
    self->settle_timer_.release();
    self->run_page_script();
    return G_SOURCE_REMOVE;
}

void ViewSlot::run_page_script() {
    stage_ = Stage::Scripting;
    webkit_web_view_call_async_javascript_function(
        view_, kFontsReadyScript, -1, nullptr, nullptr, nullptr, cancellable_.get(),
        &ViewSlot::on_script_done, new AsyncTag{this, generation_});
}

void ViewSlot::on_script_done(GObject* source, GAsyncResult* result, gpointer data) {
    std::unique_ptr<AsyncTag> tag(static_cast<AsyncTag*>(data));
    GError* raw = nullptr;
    GObjectPtr<JSCValue> value(webkit_web_view_call_async_javascript_function_finish(
        WEBKIT_WEB_VIEW(source), result, &raw));
    GErrorPtr error(raw);
    ViewSlot* self = tag->slot;
    if (tag->generation != self->generation_ || self->stage_ != Stage::Scripting) return;
    // A page whose script fails still renders; fonts may just be late.
    if (error) log(self->index_, "fonts.ready script failed", error->message);
    self->produce_output();
}

void ViewSlot::produce_output() {
    output_started_us_ = g_get_monotonic_time();
    if (job_->format == "pdf")
        start_print();
    else
        start_snapshot();
}

// ---- output -------------------------------------------------------------

void ViewSlot::start_print() {
    stage_ = Stage::Printing;
    unlink(temp_path_.c_str());
    GErrorPtr error;
    GCharPtr uri;
    {
        GError* raw = nullptr;
        uri.reset(g_filename_to_uri(temp_path_.c_str(), nullptr, &raw));
        error.reset(raw);
    }
    if (!uri) {
        fail("print_failed", std::string("Failed to print page: ") + error->message);
        return;
    }

    GObjectPtr<GtkPrintSettings> settings(gtk_print_settings_new());
    gtk_print_settings_set_printer(settings.get(), printer_name_.c_str());
    gtk_print_settings_set(settings.get(), GTK_PRINT_SETTINGS_OUTPUT_FILE_FORMAT, "pdf");
    gtk_print_settings_set(settings.get(), GTK_PRINT_SETTINGS_OUTPUT_URI, uri.get());

    GObjectPtr<GtkPageSetup> page(gtk_page_setup_new());
    GtkPaperSize* a4 = gtk_paper_size_new(GTK_PAPER_NAME_A4);
    gtk_page_setup_set_paper_size(page.get(), a4);
    gtk_print_settings_set_paper_size(settings.get(), a4);
    gtk_paper_size_free(a4);
    const auto orientation =
        job_->landscape ? GTK_PAGE_ORIENTATION_LANDSCAPE : GTK_PAGE_ORIENTATION_PORTRAIT;
    gtk_page_setup_set_orientation(page.get(), orientation);
    gtk_print_settings_set_orientation(settings.get(), orientation);
    gtk_page_setup_set_top_margin(page.get(), kPaperMarginMm, GTK_UNIT_MM);
    gtk_page_setup_set_bottom_margin(page.get(), kPaperMarginMm, GTK_UNIT_MM);
    gtk_page_setup_set_left_margin(page.get(), kPaperMarginMm, GTK_UNIT_MM);
    gtk_page_setup_set_right_margin(page.get(), kPaperMarginMm, GTK_UNIT_MM);

    print_op_.reset(webkit_print_operation_new(view_));
    webkit_print_operation_set_print_settings(print_op_.get(), settings.get());
    webkit_print_operation_set_page_setup(print_op_.get(), page.get());
    g_signal_connect(print_op_.get(), "failed", G_CALLBACK(&ViewSlot::on_print_failed), this);
    g_signal_connect(print_op_.get(), "finished", G_CALLBACK(&ViewSlot::on_print_finished), this);
    print_watchdog_.reset(g_timeout_add(kPrintWatchdogMs, &ViewSlot::on_print_watchdog, this));
    webkit_print_operation_print(print_op_.get());
}

void ViewSlot::on_print_failed(WebKitPrintOperation*, GError* error, gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    // "finished" follows "failed"; the outcome is decided there.
    self->print_error_.reset(g_error_copy(error));
}

void ViewSlot::on_print_finished(WebKitPrintOperation* op, gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    if (op != self->print_op_.get()) return;
    g_signal_handlers_disconnect_by_data(op, self);
    self->print_watchdog_.reset();
    GObjectPtr<WebKitPrintOperation> done(self->print_op_.release());
    if (self->stage_ == Stage::Draining) {
        // The job was already answered (timeout): drop what was printed.
        unlink(self->temp_path_.c_str());
        self->begin_reset();
        return;
    }
    if (self->stage_ != Stage::Printing) return;
    if (self->print_error_) {
        self->fail("print_failed",
                   std::string("Failed to print page: ") + self->print_error_->message);
        return;
    }
    self->succeed();
}

gboolean ViewSlot::on_print_watchdog(gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    self->print_watchdog_.release();
    log(self->index_, "print did not finish; replacing the view");
    if (self->stage_ == Stage::Printing)
        self->fail("print_failed", "Failed to print page: printing did not finish");
    if (self->print_op_) g_signal_handlers_disconnect_by_data(self->print_op_.get(), self);
    self->print_op_.reset();
    unlink(self->temp_path_.c_str());
    self->recycle_soon();
    return G_SOURCE_REMOVE;
}

void ViewSlot::start_snapshot() {
    stage_ = Stage::Snapshotting;
    webkit_web_view_get_snapshot(view_, WEBKIT_SNAPSHOT_REGION_FULL_DOCUMENT,
                                 WEBKIT_SNAPSHOT_OPTIONS_NONE, cancellable_.get(),
                                 &ViewSlot::on_snapshot_done, new AsyncTag{this, generation_});
}

void ViewSlot::on_snapshot_done(GObject* source, GAsyncResult* result, gpointer data) {
    std::unique_ptr<AsyncTag> tag(static_cast<AsyncTag*>(data));
    GError* raw = nullptr;
    std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)> surface(
        webkit_web_view_get_snapshot_finish(WEBKIT_WEB_VIEW(source), result, &raw),
        &cairo_surface_destroy);
    GErrorPtr error(raw);
    ViewSlot* self = tag->slot;
    if (tag->generation != self->generation_ || self->stage_ != Stage::Snapshotting) return;
    if (!surface) {
        self->fail("print_failed",
                   std::string("Failed to capture page: ") + (error ? error->message : "no image"));
        return;
    }
    const int width = cairo_image_surface_get_width(surface.get());
    const int height = cairo_image_surface_get_height(surface.get());
    if (width > kMaxSnapshotSide || height > kMaxSnapshotSide) {
        // Crop: a screenshot this large is useless and costly to encode.
        std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)> cropped(
            cairo_image_surface_create(CAIRO_FORMAT_ARGB32, std::min(width, kMaxSnapshotSide),
                                       std::min(height, kMaxSnapshotSide)),
            &cairo_surface_destroy);
        cairo_t* cr = cairo_create(cropped.get());
        cairo_set_source_surface(cr, surface.get(), 0, 0);
        cairo_paint(cr);
        cairo_destroy(cr);
        surface = std::move(cropped);
    }
    unlink(self->temp_path_.c_str());
    cairo_status_t status = cairo_surface_write_to_png(surface.get(), self->temp_path_.c_str());
    if (status != CAIRO_STATUS_SUCCESS) {
        self->fail("print_failed",
                   std::string("Failed to write image: ") + cairo_status_to_string(status));
        return;
    }
    self->succeed();
}

// ---- endings ------------------------------------------------------------

void ViewSlot::succeed() {
    if (rename(temp_path_.c_str(), job_->out_path.c_str()) != 0) {
        fail("print_failed", "Failed to write output file " + job_->out_path);
        return;
    }
    Outcome outcome;
    outcome.ok = true;
    answer(std::move(outcome));
}

void ViewSlot::fail(const std::string& code, const std::string& message) {
    Outcome outcome;
    outcome.error_code = code;
    outcome.error = message;
    answer(std::move(outcome));
}

void ViewSlot::answer(Outcome outcome) {
    const bool printing = stage_ == Stage::Printing;
    deadline_.reset();
    settle_timer_.reset();
    if (cancellable_) g_cancellable_cancel(cancellable_.get());
    if (const char* title = view_ ? webkit_web_view_get_title(view_) : nullptr)
        outcome.title = title;
    outcome.http_status = http_status_;
    outcome.render_ms = elapsed_ms();
    if (outcome.ok) {
        char timing[128];
        std::snprintf(timing, sizeof timing, "load %.0f ms, settle+fonts %.0f ms, output %.0f ms",
                      static_cast<double>(load_finished_us_ - started_us_) / 1000.0,
                      static_cast<double>(output_started_us_ - load_finished_us_) / 1000.0,
                      static_cast<double>(g_get_monotonic_time() - output_started_us_) / 1000.0);
        log(index_, "job done", timing);
    }
    if (!outcome.ok) unlink(temp_path_.c_str());
    const std::uint64_t id = job_->id;
    job_.reset();
    ++generation_;

    if (printing && print_op_) {
        // The print cannot be cancelled; keep the view until it lets go of
        // the temp file so it cannot reappear after the answer.
        stage_ = Stage::Draining;
    } else {
        begin_reset();
    }
    on_result_(id, outcome);
}

gboolean ViewSlot::on_deadline(gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    self->deadline_.release();
    if (self->job_running()) {
        const double seconds = self->job_->timeout_seconds;
        if (self->stage_ == Stage::Loading) webkit_web_view_stop_loading(self->view_);
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%g", seconds);
        self->fail("timeout", std::string("Failed to render page within ") + buffer + " s");
    }
    return G_SOURCE_REMOVE;
}

// ---- between jobs ---------------------------------------------------------

void ViewSlot::begin_reset() {
    if (jobs_on_view_ >= kJobsPerView) {
        recycle_soon();
        return;
    }
    stage_ = Stage::Resetting;
    pending_resources_.clear();
    reset_watchdog_.reset(g_timeout_add(kResetWatchdogMs, &ViewSlot::on_reset_watchdog, this));
    webkit_web_view_load_uri(view_, "about:blank");
}

gboolean ViewSlot::on_reset_watchdog(gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    self->reset_watchdog_.release();
    log(self->index_, "reset did not finish; replacing the view");
    self->recycle_soon();
    return G_SOURCE_REMOVE;
}

void ViewSlot::clear_site_data() {
    WebKitWebsiteDataManager* manager = webkit_web_context_get_website_data_manager(context_.get());
    webkit_website_data_manager_clear(manager, WEBKIT_WEBSITE_DATA_ALL, 0, nullptr,
                                      &ViewSlot::on_site_data_cleared,
                                      new AsyncTag{this, generation_});
}

void ViewSlot::on_site_data_cleared(GObject* source, GAsyncResult* result, gpointer data) {
    std::unique_ptr<AsyncTag> tag(static_cast<AsyncTag*>(data));
    GError* raw = nullptr;
    webkit_website_data_manager_clear_finish(WEBKIT_WEBSITE_DATA_MANAGER(source), result, &raw);
    GErrorPtr error(raw);
    ViewSlot* self = tag->slot;
    if (tag->generation != self->generation_ || self->stage_ != Stage::Resetting) return;
    if (error) {
        log(self->index_, "clearing site data failed; replacing the view", error->message);
        self->recycle_soon();
        return;
    }
    self->become_idle();
}

void ViewSlot::become_idle() {
    reset_watchdog_.reset();
    stage_ = Stage::Idle;
    on_idle_();
}

void ViewSlot::recycle_soon() {
    // Called from inside the view's own signal emissions: destroy it from
    // the main loop, not under WebKit's feet.
    if (stage_ == Stage::Recycling) return;
    stage_ = Stage::Recycling;
    reset_watchdog_.reset();
    recycle_source_.reset(g_idle_add(&ViewSlot::on_recycle, this));
}

gboolean ViewSlot::on_recycle(gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    self->recycle_source_.release();
    if (self->print_op_) g_signal_handlers_disconnect_by_data(self->print_op_.get(), self);
    self->print_op_.reset();
    self->print_watchdog_.reset();
    self->destroy_view();
    self->create_view();
    self->begin_reset();
    return G_SOURCE_REMOVE;
}

}  // namespace enconvert::render_child
