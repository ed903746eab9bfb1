#include "render_child/view_slot.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "options/option_limits.h"
#include "render_child/capture_style.h"
#include "render_child/image_writer.h"
#include "render_child/print_setup.h"
#include "render_child/scroll_watch.h"
#include "render_child/view_slot_internal.h"

namespace enconvert::render_child {
using namespace slot_detail;

ViewSlot::ViewSlot(int index, std::string printer_name, ViewLimits limits, const OutboundGate& gate,
                   const ContentFilters& filters, WorkThread& work, OnResult on_result,
                   OnIdle on_idle)
    : index_(index),
      printer_name_(std::move(printer_name)),
      limits_(limits),
      gate_(gate),
      filters_(filters),
      work_(work),
      on_result_(std::move(on_result)),
      on_idle_(std::move(on_idle)) {
    create_view();
    // Launching the web process costs hundreds of ms; pay it before the
    // first job rather than in it.
    begin_reset();
}

void ViewSlot::note(log::Level level, const char* what, const std::string& detail) const {
    log::write(level, "view", what,
               {{"view", index_},
                {"job_id", job_ ? nlohmann::json(job_->job_id) : nlohmann::json(nullptr)},
                {"task_id", job_ ? nlohmann::json(job_->id) : nlohmann::json(nullptr)},
                {"detail", detail.empty() ? nlohmann::json(nullptr) : nlohmann::json(detail)}});
}

ViewSlot::~ViewSlot() {
    if (print_op_) g_signal_handlers_disconnect_by_data(print_op_.get(), this);
    if (cancellable_) g_cancellable_cancel(cancellable_.get());
    destroy_view();
    remove_job_files(temp_path_, bands_path_);
}

namespace {

// WebKit's memory pressure handler polls its web process and, above the
// kill threshold, terminates it with EXCEEDED_MEMORY_LIMIT: a runaway page
// dies alone instead of taking the renderer (or the host) with it. The
// settings are construct-only, hence g_object_new.
struct PressureSettingsFree {
    void operator()(WebKitMemoryPressureSettings* s) const {
        if (s) webkit_memory_pressure_settings_free(s);
    }
};

void disable_feature(WebKitSettings* settings, const char* identifier) {
    WebKitFeatureList* features = webkit_settings_get_all_features();
    for (gsize i = 0; i < webkit_feature_list_get_length(features); ++i) {
        WebKitFeature* feature = webkit_feature_list_get(features, i);
        if (g_strcmp0(webkit_feature_get_identifier(feature), identifier) == 0)
            webkit_settings_set_feature_enabled(settings, feature, FALSE);
    }
    webkit_feature_list_unref(features);
}

struct ProxySettingsFree {
    void operator()(WebKitNetworkProxySettings* s) const {
        if (s) webkit_network_proxy_settings_free(s);
    }
};

// fsync()s `path` and returns its size; -1 with `err` set when it cannot
// be opened, synced or measured.
std::int64_t sync_output(const std::string& path, int& err) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err = errno;
        return -1;
    }
    struct stat st {};
    const bool ok = fsync(fd) == 0 && fstat(fd, &st) == 0;
    err = errno;
    close(fd);
    return ok ? static_cast<std::int64_t>(st.st_size) : -1;
}

// Below this much free space where the output goes, a failed write is taken
// for a full disk. Only the failures that carry neither an errno nor the
// print engine's no-space error come this way; our own writes, the PDF
// rewrite and a print cut short say so themselves (fail_write). The free
// space is looked at after the failure, so a view that removes its own file
// at that moment can hide a full disk from this guess.
constexpr std::uint64_t kFullBelowBytes = 1 << 20;

bool output_dir_full(const std::string& out_path) {
    const std::string dir = out_path.substr(0, out_path.rfind('/') + 1);
    struct statvfs st {};
    if (statvfs(dir.c_str(), &st) != 0) return false;
    return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize < kFullBelowBytes;
}

}  // namespace

WebKitWebContext* ViewSlot::new_context() const {
    GObjectPtr<WebKitWebsiteDataManager> data(webkit_website_data_manager_new_ephemeral());
    // No connection of this context bypasses the outbound gate: the engine
    // hands it names unresolved (SOCKS5 with remote DNS) for every scheme.
    std::unique_ptr<WebKitNetworkProxySettings, ProxySettingsFree> proxy(
        webkit_network_proxy_settings_new(gate_.proxy_uri(index_).c_str(), nullptr));
    webkit_website_data_manager_set_network_proxy_settings(
        data.get(), WEBKIT_NETWORK_PROXY_MODE_CUSTOM, proxy.get());
    if (limits_.memory_limit_mb == 0)
        return WEBKIT_WEB_CONTEXT(
            g_object_new(WEBKIT_TYPE_WEB_CONTEXT, "website-data-manager", data.get(), nullptr));
    std::unique_ptr<WebKitMemoryPressureSettings, PressureSettingsFree> pressure(
        webkit_memory_pressure_settings_new());
    webkit_memory_pressure_settings_set_memory_limit(pressure.get(), limits_.memory_limit_mb);
    // Kill at the limit itself; look often, a page can allocate a GB a second.
    webkit_memory_pressure_settings_set_kill_threshold(pressure.get(), kKillThreshold);
    webkit_memory_pressure_settings_set_poll_interval(pressure.get(), kMemoryPollSeconds);
    return WEBKIT_WEB_CONTEXT(g_object_new(WEBKIT_TYPE_WEB_CONTEXT, "website-data-manager",
                                           data.get(), "memory-pressure-settings", pressure.get(),
                                           nullptr));
}

void ViewSlot::create_view() {
    ++generation_;
    jobs_on_view_ = 0;
    view_lost_ = false;
    web_process_died_ = false;
    death_reason_ = WEBKIT_WEB_PROCESS_CRASHED;
    // Ephemeral: cookies, cache and storage live in memory only and die with
    // the context; between jobs they are also cleared explicitly.
    context_.reset(new_context());
    page_has_headers_ = false;
    use_web_extension();
    if (limits_.sandbox) {
        // Before the context starts its first web process.
        webkit_web_context_set_sandbox_enabled(context_.get(), TRUE);
        for (const std::string& path : limits_.sandbox_read_paths)
            webkit_web_context_add_path_to_sandbox(context_.get(), path.c_str(), TRUE);
    }
    g_signal_connect(
        context_.get(), "download-started",
        G_CALLBACK((slot_guard_or<&ViewSlot::on_download_started, &ViewSlot::refuse_download>)),
        this);
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
    // The back/forward cache would keep a job's page alive in the web
    // process after the reset, ready to be shown again; back/forward
    // navigations are refused anyway (ViewSlot::on_decide_policy).
    webkit_settings_set_enable_page_cache(settings.get(), FALSE);
    // A service worker registration survives clearing the ephemeral
    // session's website data (measured with WebKitGTK 2.50), so one tenant's
    // worker could answer the next tenant's page on the same origin. A
    // renderer has no use for offline caches: pages load from the network.
    disable_feature(settings.get(), "ServiceWorkers");
    // Peer connections and capture devices would make connections (ICE,
    // STUN over UDP) that WebKit's proxy settings, and so the gate, never
    // see. Off by default in WebKitGTK 2.50 (Debian's is built without
    // WebRTC; turning media streams on shows navigator.mediaDevices); kept
    // off here whatever a later build or default says.
    webkit_settings_set_enable_webrtc(settings.get(), FALSE);
    webkit_settings_set_enable_media_stream(settings.get(), FALSE);

    GObjectPtr<WebKitUserContentManager> content(new_capture_content_manager());
    add_scroll_watch(content.get());
    view_ = WEBKIT_WEB_VIEW(g_object_new(WEBKIT_TYPE_WEB_VIEW, "web-context", context_.get(),
                                         "settings", settings.get(), "user-content-manager",
                                         content.get(), nullptr));
    window_.reset(gtk_offscreen_window_new());
    gtk_container_add(GTK_CONTAINER(window_.get()), GTK_WIDGET(view_));
    gtk_widget_set_size_request(GTK_WIDGET(view_), 1920, 1080);

    g_signal_connect(view_, "load-changed", G_CALLBACK(slot_guard<&ViewSlot::on_load_changed>),
                     this);
    g_signal_connect(view_, "load-failed", G_CALLBACK(slot_guard<&ViewSlot::on_load_failed>), this);
    g_signal_connect(view_, "authenticate", G_CALLBACK(slot_guard<&ViewSlot::on_authenticate>),
                     this);
    g_signal_connect(
        view_, "decide-policy",
        G_CALLBACK((slot_guard_or<&ViewSlot::on_decide_policy, &ViewSlot::refuse_policy>)), this);
    g_signal_connect(view_, "load-failed-with-tls-errors",
                     G_CALLBACK(slot_guard<&ViewSlot::on_load_failed_tls>), this);
    g_signal_connect(view_, "web-process-terminated",
                     G_CALLBACK(slot_guard<&ViewSlot::on_web_process_terminated>), this);
    g_signal_connect(view_, "resource-load-started",
                     G_CALLBACK(slot_guard<&ViewSlot::on_resource_started>), this);
    // Nothing may open a dialog in a headless renderer: alert() or print()
    // would otherwise block the page (or the whole main loop) forever. A
    // beforeunload prompt is answered "leave": unanswered it means "stay",
    // which cancelled the blank load that resets the view after a job, and
    // the view waited for the reset watchdog (15 s) instead of taking work.
    g_signal_connect(
        view_, "script-dialog",
        G_CALLBACK(+[](WebKitWebView*, WebKitScriptDialog* dialog, gpointer) -> gboolean {
            if (webkit_script_dialog_get_dialog_type(dialog) ==
                WEBKIT_SCRIPT_DIALOG_BEFORE_UNLOAD_CONFIRM)
                webkit_script_dialog_confirm_set_confirmed(dialog, TRUE);
            return TRUE;
        }),
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
    // The window itself is shown only once a job's document has loaded
    // (ViewSlot::on_load_finished).
    gtk_widget_show(GTK_WIDGET(view_));
}

void ViewSlot::destroy_view() {
    ++generation_;
    pending_resources_.clear();
    if (view_) g_signal_handlers_disconnect_by_data(view_, this);
    view_ = nullptr;
    window_.reset();
    stop_download();
    if (context_) g_signal_handlers_disconnect_by_data(context_.get(), this);
    context_.reset();
}

bool ViewSlot::job_running() const {
    switch (stage_) {
        case Stage::Loading:
        case Stage::Scrolling:
        case Stage::Selecting:
        case Stage::Settling:
        case Stage::Scripting:
        case Stage::Delaying:
        case Stage::Cleaning:
        case Stage::Preparing:
        case Stage::Printing:
        case Stage::Banding:
        case Stage::Finishing:
        case Stage::Snapshotting:
        case Stage::Downloading:
            return true;
        default:
            return false;
    }
}

double ViewSlot::elapsed_ms() const {
    return static_cast<double>(g_get_monotonic_time() - started_us_) / 1000.0;
}

void ViewSlot::start(Job job) {
    // Called from the renderer's dispatch, often inside another slot's
    // guarded callback: what is thrown here must fail this slot's job, not
    // be taken for the other slot's.
    try {
        start_job(std::move(job));
    } catch (const std::exception& e) {
        callback_threw(generation_, e.what());
    } catch (...) {
        callback_threw(generation_, "an exception of an unknown type");
    }
}

void ViewSlot::start_job(Job job) {
    ++generation_;
    ++jobs_on_view_;
    job_ = std::move(job);
    stage_ = Stage::Loading;
    started_us_ = g_get_monotonic_time();
    http_status_ = 0;
    job_load_started_ = false;
    job_load_committed_ = false;
    load_retries_ = 0;
    page_inert_ = false;
    settle_reason_ = "not checked";
    pending_resources_.clear();
    print_error_.reset();
    cancellable_.reset(g_cancellable_new());
    temp_path_ = job_->out_path + ".part";
    bands_path_.clear();
    printing_bands_ = false;
    job_title_.clear();
    // The header/footer document of the previous job ran without scripts
    // and on a transparent base.
    webkit_settings_set_enable_javascript(webkit_web_view_get_settings(view_), TRUE);
    // load_media false: no image is fetched; the media rule list below keeps
    // video and audio out too.
    webkit_settings_set_auto_load_images(webkit_web_view_get_settings(view_), job_->load_media);
    filters_.apply(webkit_web_view_get_user_content_manager(view_), *job_);
    const GdkRGBA white{1, 1, 1, 1};
    webkit_web_view_set_background_color(view_, &white);

    // Print lays the page out at the paper's printable width, but media
    // queries and vw units see the view: a PDF's view is exactly that wide,
    // as Chromium prints (with layout_width "viewport" the print scale makes
    // that width the viewport's). At most as wide as a screenshot's widest
    // view (viewport_width's maximum): a wide sheet at a small scale (900 mm
    // at 0.1 is 34,000 px) made X fail the window with a fatal BadAlloc,
    // which took the child and its other jobs down, and 16384 px with
    // viewport_height 16384 held 2.3 GB in this process and 1.2 GB in the
    // web process (the shown view's bitmaps). The print itself keeps the
    // paper's width.
    const int width =
        job_->format == "pdf"
            ? static_cast<int>(std::min<long>(std::lround(printable_width_css_px(job_->pdf)),
                                              options::viewport_width.max))
            : job_->viewport_width;
    gtk_widget_set_size_request(GTK_WIDGET(view_), width, job_->viewport_height);
    gtk_window_resize(GTK_WINDOW(window_.get()), width, job_->viewport_height);
    // Allocate the new size now: the web process must have it before the
    // load below, or scripts and media queries could see the last job's.
    gtk_container_check_resize(GTK_CONTAINER(window_.get()));
    // A hidden view (it loads hidden, ViewSlot::on_load_finished shows it)
    // is resized by WebKitGTK only when it is mapped: mapped for a moment,
    // it sends the new size (and undoes the last print's width) first.
    if (!gtk_widget_get_visible(window_.get())) {
        gtk_widget_show_all(window_.get());
        gtk_widget_hide(window_.get());
    }

    const auto budget_ms = static_cast<guint>(job_->budget_seconds * 1000.0);
    deadline_.reset(g_timeout_add(budget_ms, slot_guard<&ViewSlot::on_deadline>, this));
    load_job_page();
}

// ---- endings ------------------------------------------------------------

void ViewSlot::succeed() {
    callback_faults_ = 0;
    // Renamed, then synced: the sync also commits the rename, so the
    // worker's own sync of the file before storing it finds nothing left
    // to write (synced first, the rename would leave the file's inode
    // changed and cost the worker a journal commit of its own). The worker
    // reads the file only after the answer, which a failed sync never
    // gives. Synced before the answer, so a write error the file system
    // reports late (a full disk) fails this job instead of leaving a short
    // file; the size lets the worker check it stores exactly what was
    // written.
    if (rename(temp_path_.c_str(), job_->out_path.c_str()) != 0) {
        fail("print_failed", "Failed to write output file");
        return;
    }
    int err = 0;
    const std::int64_t size = sync_output(job_->out_path, err);
    if (size <= 0) unlink(job_->out_path.c_str());
    if (size == 0) {
        fail("print_failed", "Failed to write output file: it is empty");
        return;
    }
    if (size < 0) {
        fail_write("Failed to write output file: ", write_error_from_errno("sync", err));
        return;
    }
    Outcome outcome;
    outcome.ok = true;
    outcome.size = size;
    answer(std::move(outcome));
}

void ViewSlot::fail(const std::string& code, const std::string& message) {
    Outcome outcome;
    outcome.error_code = code;
    outcome.error = message;
    // Writing the output is where a renderer meets a full disk; the worker
    // queues such a job again for when there is room.
    if (code == "print_failed" && output_dir_is_full()) {
        fail_storage_full();
        return;
    }
    answer(std::move(outcome));
}

void ViewSlot::fail_write(const std::string& what, const WriteError& error) {
    if (error.no_space)
        fail_storage_full();
    else
        fail("print_failed", what + error.message);
}

bool ViewSlot::output_dir_is_full() const {
    return job_ && output_dir_full(job_->out_path);
}

void ViewSlot::fail_storage_full() {
    Outcome outcome;
    outcome.error_code = "storage_full";
    outcome.error = "Failed to write the output: the storage is full";
    answer(std::move(outcome));
}

void ViewSlot::answer(Outcome outcome) {
    // The print cannot be cancelled, nor the work thread stopped mid-file:
    // the view waits for them to let go of the temp file so it cannot
    // reappear after the answer.
    const bool drain = (stage_ == Stage::Printing && print_op_) || finish_pending_;
    stop_download();
    deadline_.reset();
    reload_source_.reset();
    settle_timer_.reset();
    delay_timer_.reset();
    // A running print keeps its watchdog (Draining); otherwise a pending
    // on_print_lost must not outlive the job it was for.
    if (!print_op_) print_watchdog_.reset();
    capture_lost_.reset();
    if (cancellable_) g_cancellable_cancel(cancellable_.get());
    if (!job_title_.empty())
        outcome.title = job_title_;
    else if (const char* title = view_ ? webkit_web_view_get_title(view_) : nullptr)
        outcome.title = title;
    outcome.http_status = http_status_;
    outcome.render_ms = elapsed_ms();
    outcome.view = index_;
    const auto ms = [](gint64 us) { return static_cast<double>(us) / 1000.0; };
    nlohmann::json timings = nullptr;
    if (outcome.ok) {
        timings = {{"queued_ms", ms(started_us_ - job_->received_us)},
                   {"load_ms", ms(load_finished_us_ - started_us_)},
                   {"settle_ms", ms(output_started_us_ - load_finished_us_)},
                   {"output_ms", ms(g_get_monotonic_time() - output_started_us_)}};
        if (print_us_ > 0) {  // a printed PDF (not a screenshot, not a download)
            timings["prepare_ms"] = ms(prepare_us_);
            timings["print_ms"] = ms(print_us_);
            timings["postprocess_ms"] = ms(postprocess_us_);
        }
    }
    log::write(
        outcome.ok ? log::Level::info : log::Level::warning, "view",
        outcome.ok ? "render succeeded" : "render failed",
        {{"view", index_},
         {"job_id", job_->job_id},
         {"task_id", job_->id},
         {"render_ms", outcome.render_ms},
         {"timings", timings},
         {"settle_reason", outcome.ok ? nlohmann::json(settle_reason_) : nlohmann::json(nullptr)},
         {"error_code", outcome.ok ? nlohmann::json(nullptr) : nlohmann::json(outcome.error_code)},
         {"error", outcome.ok ? nlohmann::json(nullptr) : nlohmann::json(outcome.error)}});
    if (!outcome.ok) unlink(temp_path_.c_str());
    // Stamped into the output (or useless now); a band print still running
    // is drained below and removes it again when done.
    if (!bands_path_.empty()) unlink(bands_path_.c_str());
    const std::uint64_t id = job_->id;
    job_.reset();
    ++generation_;
    // Answered before the view's reset is started: the answer only sends
    // a frame, and the worker should not wait for the reset's own work.
    on_result_(id, outcome);

    if (drain) {
        stage_ = Stage::Draining;
        // What the work thread does for this job must now end soon.
        if (finish_pending_) work_.hurry();
    } else {
        defer_reset();
    }
}

bool ViewSlot::cancel(std::uint64_t id) {
    if (!job_running() || job_->id != id) return false;
    if (stage_ == Stage::Loading) {
        stopping_load_ = true;
        webkit_web_view_stop_loading(view_);
        stopping_load_ = false;
    }
    fail("cancelled", "The render was cancelled");
    return true;
}

gboolean ViewSlot::on_deadline(gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    self->deadline_.release();
    if (self->job_running()) {
        const double seconds = self->job_->timeout_seconds;
        if (self->stage_ == Stage::Loading) {
            self->stopping_load_ = true;
            webkit_web_view_stop_loading(self->view_);
            self->stopping_load_ = false;
        }
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%g", seconds);
        self->fail("timeout", std::string("Failed to render page within ") + buffer + " s");
    }
    return G_SOURCE_REMOVE;
}

gboolean ViewSlot::on_reload(gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    self->reload_source_.release();
    if (self->stage_ == Stage::Loading) {
        self->job_load_started_ = false;
        webkit_web_view_load_uri(self->view_, self->job_->url.c_str());
    }
    return G_SOURCE_REMOVE;
}

void ViewSlot::off_loop(std::function<void()> work, std::function<void(const std::string&)> then) {
    stage_ = Stage::Finishing;
    finish_pending_ = true;
    work_.post(std::move(work),
               [this, generation = generation_, body = temp_path_, bands = bands_path_,
                then = std::move(then)](const std::string& error) {
                   finish_pending_ = false;
                   if (generation != generation_) {
                       // Answered meanwhile (deadline, cancel): what was written goes.
                       remove_job_files(body, bands);
                       if (stage_ == Stage::Draining) begin_reset();
                       return;
                   }
                   // A throw fails the job now (WorkThread would log it
                   // and leave the job to its deadline).
                   run_guarded<SlotSite>(CallbackWhere{this, generation}, [&] { then(error); });
               });
}

// ---- between jobs ---------------------------------------------------------

void ViewSlot::defer_reset() {
    // The reset (about:blank, clearing the site data) costs the web process
    // and this child CPU at the moment the worker stores and records the
    // answer and its client waits for it; on a small host they compete
    // (the answer reached the client ~3 ms later on 2 CPUs). Nothing waits
    // for this view yet: its reset waits a moment, unless a job arrives
    // that finds no idle view (the spare one usually is): then at once
    // (Renderer::dispatch).
    stage_ = Stage::Resetting;
    reset_delay_.reset(g_timeout_add(kResetDelayMs, slot_guard<&ViewSlot::on_reset_delay>, this));
}

void ViewSlot::reset_now_if_deferred() {
    if (reset_delay_) begin_reset();
}

gboolean ViewSlot::on_reset_delay(gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    self->reset_delay_.release();
    self->begin_reset();
    return G_SOURCE_REMOVE;
}

void ViewSlot::begin_reset() {
    reset_delay_.reset();
    if (jobs_on_view_ >= kJobsPerView || view_lost_) {
        recycle_soon();
        return;
    }
    stage_ = Stage::Resetting;
    reset_load_started_ = false;
    pending_resources_.clear();
    reset_watchdog_.reset(
        g_timeout_add(kResetWatchdogMs, slot_guard<&ViewSlot::on_reset_watchdog>, this));
    // An empty about:blank, but loaded with a file:/// base URL: WebKit's
    // UI process kills a web process that reports a file: URL it never
    // loaded, and a page's server redirect to file: is reported before
    // anything refuses it. With the base URL on record the redirect reaches
    // WebCore, which cancels it, and the job fails with blocked_address
    // (ViewSlot::on_load_failed). Nothing is read from disk: the content is
    // the empty string, and pages from http(s) still cannot load file: URLs.
    webkit_web_view_load_alternate_html(view_, "", "about:blank", "file:///");
}

gboolean ViewSlot::on_reset_watchdog(gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    self->reset_watchdog_.release();
    self->note(log::Level::warning, "reset did not finish; replacing the view");
    self->recycle_soon();
    return G_SOURCE_REMOVE;
}

void ViewSlot::clear_site_data() {
    WebKitWebsiteDataManager* manager = webkit_web_context_get_website_data_manager(context_.get());
    webkit_website_data_manager_clear(manager, WEBKIT_WEBSITE_DATA_ALL, 0, nullptr,
                                      tag_guard<&ViewSlot::on_site_data_cleared>,
                                      new AsyncTag{this, generation_});
}

void ViewSlot::on_site_data_cleared(GObject* source, GAsyncResult* result, gpointer data) {
    GError* raw = nullptr;
    webkit_website_data_manager_clear_finish(WEBKIT_WEBSITE_DATA_MANAGER(source), result, &raw);
    GErrorPtr error(raw);
    ViewSlot* self = slot_if_current(data, Stage::Resetting);
    if (!self) return;
    if (error) {
        self->note(log::Level::warning, "clearing site data failed; replacing the view",
                   error->message);
        self->recycle_soon();
        return;
    }
    self->become_idle();
}

void ViewSlot::become_idle() {
    reset_watchdog_.reset();
    // The view stays hidden (since the last print) for the next job's load:
    // shown by on_load_finished.
    stage_ = Stage::Idle;
    on_idle_();
}

void ViewSlot::recycle_soon() {
    // Called from inside the view's own signal emissions: destroy it from
    // the main loop, not under WebKit's feet.
    if (stage_ == Stage::Recycling) return;
    stage_ = Stage::Recycling;
    reset_delay_.reset();
    reset_watchdog_.reset();
    recycle_source_.reset(g_idle_add(slot_guard<&ViewSlot::on_recycle>, this));
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

ViewSlot::CallbackWhere ViewSlot::SlotSite::locate(void* slot) {
    auto* self = static_cast<ViewSlot*>(slot);
    return {self, self->generation_};
}

void ViewSlot::SlotSite::threw(const CallbackWhere& where, const char* what) {
    where.slot->callback_threw(where.generation, what);
}

ViewSlot::CallbackWhere ViewSlot::TagSite::locate(void* tag) {
    const auto* async = static_cast<const AsyncTag*>(tag);
    return {async->slot, async->generation};
}

gboolean ViewSlot::refuse_policy(WebKitWebView*, WebKitPolicyDecision* decision,
                                 WebKitPolicyDecisionType, gpointer) {
    // Once decided, a decision ignores later answers: one the callback
    // made before it threw stands.
    webkit_policy_decision_ignore(decision);
    return TRUE;
}

void ViewSlot::refuse_download(WebKitWebContext*, WebKitDownload* download, gpointer) {
    webkit_download_cancel(download);
}

gboolean ViewSlot::refuse_destination(WebKitDownload* download, gchar*, gpointer) {
    webkit_download_cancel(download);
    return TRUE;
}

void ViewSlot::callback_threw(std::uint64_t generation, const char* what) {
    note(log::Level::error, "a callback of the view threw; replacing the view", what);
    if (++callback_faults_ > kMaxCallbackFaults) {
        // The same fault on every job, or no view can be made any more:
        // replacing views in a loop would only spawn web processes. The
        // pool answers the child's jobs renderer_crashed and starts anew.
        note(log::Level::error, "callbacks keep failing; exiting");
        _exit(EXIT_FAILURE);
    }
    // A fault of ours on this page, like a crash of the renderer: the
    // worker runs the task again (up to its attempts). A callback of an
    // earlier job leaves the current one alone.
    if (generation == generation_ && job_running())
        fail("renderer_crashed", "Failed to render page: the renderer failed on it");
    // Whatever the callback left half done, the view is not trusted again:
    // replaced now, or at the next reset when a job runs in it, a print is
    // drained or the work thread holds its file.
    if (job_running() || finish_pending_ || stage_ == Stage::Draining) {
        view_lost_ = true;
    } else if (stage_ == Stage::Recycling && !recycle_source_) {
        // The replacement itself threw (on_recycle): tried again.
        recycle_source_.reset(g_idle_add(slot_guard<&ViewSlot::on_recycle>, this));
    } else {
        recycle_soon();
    }
}

void ViewSlot::fail_for_dead_web_process(WebKitWebProcessTerminationReason reason) {
    if (reason == WEBKIT_WEB_PROCESS_EXCEEDED_MEMORY_LIMIT)
        fail("memory_limit", "Failed to render page: it used more than the memory limit (" +
                                 std::to_string(limits_.memory_limit_mb) + " MB)");
    else
        fail("web_process_crashed", kEngineCrashedMessage);
}

}  // namespace enconvert::render_child
