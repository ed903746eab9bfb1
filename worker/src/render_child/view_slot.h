// One web view and the render job running in it. A slot walks a job through
// load -> selector -> network quiet -> fonts ready -> delay -> print/snapshot
// -> PDF post-processing, reports exactly one Outcome per job, then wipes the
// page and site data before taking the next. Everything runs on the GLib
// main thread but the PDF post-processing and the image encoding, which
// the child's work thread does (pdf_finish.h, image_writer.h). The steps live in
// view_slot_waits.cpp and view_slot_output.cpp; lifecycle and endings in view_slot.cpp.
#pragma once

#include <webkit2/webkit2.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "log/log.h"
#include "render_child/callback_guard.h"
#include "render_child/content_filters.h"
#include "render_child/gate/outbound_gate.h"
#include "render_child/gobject_ptr.h"
#include "render_child/job.h"
#include "render_child/pdf_finish.h"
#include "render_child/work_thread.h"
#include "render_child/write_error.h"

namespace enconvert::render_child {

// What one page may use (the worker's RendererPool options).
struct ViewLimits {
    unsigned memory_limit_mb = 0;  // 0: WebKit's default
    unsigned max_download_mb = 256;
    // The web processes run in WebKit's sandbox (web_sandbox.h), where they
    // may also read these directories.
    bool sandbox = false;
    std::vector<std::string> sandbox_read_paths;
};

class ViewSlot {
  public:
    using OnResult = std::function<void(std::uint64_t id, const Outcome&)>;
    using OnIdle = std::function<void()>;

    // The slot starts busy: it warms its web process up with about:blank and
    // reports on_idle when it can take a job.
    // `limits.memory_limit_mb`: WebKit kills the slot's web process above
    // this (the job fails with memory_limit); 0 leaves WebKit's default.
    // `limits.max_download_mb`: a URL that is itself a PDF is saved up to
    // this size (the job fails with file_too_large above it).
    // `gate`: the outbound gate every connection of the view goes through
    // (it outlives the slot).
    // `filters`: the compiled content rule lists (outlive the slot).
    // `work`: the thread PDFs are finished on (outlives the slot).
    ViewSlot(int index, std::string printer_name, ViewLimits limits, const OutboundGate& gate,
             const ContentFilters& filters, WorkThread& work, OnResult on_result, OnIdle on_idle);
    ~ViewSlot();
    ViewSlot(const ViewSlot&) = delete;
    ViewSlot& operator=(const ViewSlot&) = delete;

    bool idle() const { return stage_ == Stage::Idle; }
    // A job is waiting: a reset put off after the last answer starts now.
    void reset_now_if_deferred();
    // Precondition: idle(). What setting the job up throws fails the job
    // (renderer_crashed), as a guarded callback's throw does.
    void start(Job job);
    // Ends the running job with `id`, if this slot runs it, answering
    // `cancelled`; false when it does not run it.
    bool cancel(std::uint64_t id);

  private:
    enum class Stage {
        Idle,
        Loading,       // waiting for load-changed FINISHED
        Scrolling,     // enable_scroll: scrolling through the page once
        Selecting,     // waiting for wait_for_selector
        Settling,      // waiting for network quiet
        Scripting,     // waiting for document.fonts.ready
        Delaying,      // the job's extra `delay`
        Cleaning,      // handle_cookies: hiding consent banners
        Preparing,     // measuring links and height before printing
        Printing,      // WebKitPrintOperation running (body, then header/footer bands)
        Banding,       // loading the header/footer document (band_document.h)
        Finishing,     // the output checked, encoded or post-processed on the work thread
        Snapshotting,  // webkit_web_view_get_snapshot running
        Downloading,   // the URL is itself a PDF: saved as the output (view_slot_download.cpp)
        Draining,      // job answered (timeout) but the print or the work thread
                       // still owns the file
        Resetting,     // loading about:blank and clearing site data
        Recycling,     // view being replaced (crash, stuck print, age)
    };

    WebKitWebContext* new_context() const;  // a new reference
    void create_view();
    void destroy_view();

    // Job steps.
    // cookies and headers of the job set up, then its URL loaded
    // (view_slot_credentials.cpp).
    void load_job_page();
    void credential_step_done();
    void use_web_extension();
    static void on_cookie_added(GObject*, GAsyncResult*, gpointer);
    static void on_headers_sent(GObject*, GAsyncResult*, gpointer);
    static gboolean on_authenticate(WebKitWebView*, WebKitAuthenticationRequest*, gpointer);
    void on_load_finished();
    void after_scroll();
    // The part of the budget a page script may take, leaving time to capture.
    double script_budget_ms() const;
    void wait_for_selector();
    void start_settling();
    void run_images_wait();
    void run_fonts_script();
    void start_delay();
    void clean_up_page();
    void produce_output();
    void prepare_print();
    void start_print();
    // Prints the view's current document to `path` on sheets of `pdf`'s
    // size (`sheet_height_mm` > 0 replaces the height) and margins.
    void print_to(const std::string& path, const PdfOptions& pdf, double sheet_height_mm);
    // Runs `work` on the work thread while the job waits (Finishing), then
    // `then` (with what `work` threw, if anything) on the main loop if the
    // job is still running. A job answered meanwhile loses the files the
    // work held (temp_path_, bands_path_) once it is done.
    void off_loop(std::function<void()> work, std::function<void(const std::string&)> then);
    // Hands the printed file to the work thread (pdf_finish.h).
    void finish_pdf();
    void on_pdf_finished(const FinishResult& result);
    // Header/footer: replaces the (already printed) page with the band
    // document, prints it to bands_path_, then finish_pdf() stamps it on
    // the `body_pages` of the body.
    void start_bands(int body_pages);
    void print_bands();
    void start_snapshot();
    void take_snapshot(WebKitSnapshotRegion region);
    // Runs one of page_scripts.h in the isolated world; `done` takes the
    // reply with take_script_reply.
    void run_script(const char* body, GVariant* arguments, GAsyncReadyCallback done);
    // The slot an async call (AsyncTag in `tag`, freed here) was started
    // for, or null when the slot has moved on since: another job, or
    // another stage than `stage`. Called once the call is finished, so
    // that a late reply is taken and dropped.
    static ViewSlot* slot_if_current(gpointer tag, std::optional<Stage> stage = std::nullopt);
    // A run_script reply: `slot` as slot_if_current() gives it; `value` is
    // null on error, with `error` set.
    struct ScriptReply {
        ViewSlot* slot = nullptr;
        GObjectPtr<JSCValue> value;
        std::string error;
        // The value when it is a string.
        std::optional<std::string> text() const;
    };
    static ScriptReply take_script_reply(GObject* source, GAsyncResult* result, gpointer tag,
                                         Stage stage);

    // Fails the job when a main-frame load of `failing` was refused (its
    // scheme or port, or the outbound gate's address policy); true if so.
    bool fail_refused_navigation(const std::string& failing);
    // A navigation event while the job loads but before its own load
    // started, for another origin than the job's URL: left over from the
    // previous document (the reset's file: base URL), not the job's.
    bool is_stale_navigation(const std::string& uri) const;

    // Job endings: exactly one of these answers the job.
    void succeed();
    void fail(const std::string& code, const std::string& message);
    // A write of the output failed: for want of room it is storage_full
    // (made again later), otherwise print_failed with `what` + why.
    void fail_write(const std::string& what, const WriteError& error);
    // The view failed to take a screenshot's snapshot (or to scroll for
    // a tile): usually because the web process died under it, and its
    // termination signal, which names the cause (a crash, retried; the
    // memory limit), comes just after the failed call.
    // fail_write(what, error) follows kDeathReportGraceMs later unless
    // that signal answered the job first.
    void fail_capture(std::string what, WriteError error);
    void fail_storage_full();
    // Whether the job's output directory is (nearly) out of space: a write
    // that failed there is taken for a full disk.
    bool output_dir_is_full() const;
    void answer(Outcome outcome);

    // After the answer: make the view clean again, then become idle.
    // defer_reset: a moment later, or as soon as reset_now_if_deferred.
    void defer_reset();
    void begin_reset();
    void clear_site_data();
    void become_idle();
    void recycle_soon();

    bool job_running() const;
    double elapsed_ms() const;

    // Every GLib/WebKit callback below is connected through one of these
    // (callback_guard.h): one that throws fails its job as a renderer
    // crash and replaces the view, instead of ending the child and the
    // jobs of its other views. slot_guard: the user data is the slot;
    // tag_guard: an AsyncTag (read before the callback frees it).
    struct CallbackWhere {
        ViewSlot* slot;
        std::uint64_t generation;
    };
    struct SlotSite {
        static CallbackWhere locate(void* slot);
        static void threw(const CallbackWhere& where, const char* what);
    };
    struct TagSite : SlotSite {
        static CallbackWhere locate(void* tag);
    };
    template <auto F>
    static constexpr auto slot_guard = &Guarded<F, SlotSite>::call;
    template <auto F>
    static constexpr auto tag_guard = &Guarded<F, TagSite>::call;
    // For callbacks that decide: when one throws, `Refuse` answers in its
    // place, as WebKit's default would allow (a navigation to an address the
    // policy refuses, a download saved to the home directory's Downloads).
    template <auto F, auto Refuse>
    static constexpr auto slot_guard_or = &Guarded<F, SlotSite, Refuse>::call;
    static gboolean refuse_policy(WebKitWebView*, WebKitPolicyDecision*, WebKitPolicyDecisionType,
                                  gpointer);
    static void refuse_download(WebKitWebContext*, WebKitDownload*, gpointer);
    static gboolean refuse_destination(WebKitDownload*, gchar*, gpointer);
    void callback_threw(std::uint64_t generation, const char* what);
    void start_job(Job job);
    // The job's answer when its web process died under it.
    void fail_for_dead_web_process(WebKitWebProcessTerminationReason reason);

    // GLib/WebKit callbacks (user data is the slot, or an AsyncTag for the
    // GAsyncReadyCallbacks).
    static void on_load_changed(WebKitWebView*, WebKitLoadEvent, gpointer);
    static gboolean on_load_failed(WebKitWebView*, WebKitLoadEvent, gchar*, GError*, gpointer);
    static gboolean on_decide_policy(WebKitWebView*, WebKitPolicyDecision*,
                                     WebKitPolicyDecisionType, gpointer);
    static gboolean on_load_failed_tls(WebKitWebView*, gchar*, GTlsCertificate*,
                                       GTlsCertificateFlags, gpointer);
    static void on_web_process_terminated(WebKitWebView*, WebKitWebProcessTerminationReason,
                                          gpointer);
    static void on_resource_started(WebKitWebView*, WebKitWebResource*, WebKitURIRequest*,
                                    gpointer);
    static void on_resource_finished(WebKitWebResource*, gpointer);
    static void on_print_failed(WebKitPrintOperation*, GError*, gpointer);
    // The main document is not a web page (view_slot_download.cpp): a PDF
    // for a PDF job is saved as it is; anything else fails the job at once.
    // TRUE when the decision was taken here.
    bool decide_document_type(WebKitResponsePolicyDecision* decision);
    void stop_download();
    static void on_download_started(WebKitWebContext*, WebKitDownload*, gpointer);
    static gboolean on_download_destination(WebKitDownload*, gchar*, gpointer);
    static void on_download_failed(WebKitDownload*, GError*, gpointer);
    static void on_download_finished(WebKitDownload*, gpointer);
    static void on_download_received(WebKitDownload*, guint64, gpointer);
    static void on_print_finished(WebKitPrintOperation*, gpointer);
    static gboolean on_deadline(gpointer);
    static gboolean on_reload(gpointer);
    static void on_source_read(GObject*, GAsyncResult*, gpointer);
    static void on_inert_checked(GObject*, GAsyncResult*, gpointer);
    static gboolean on_settle_tick(gpointer);
    static gboolean on_delay_done(gpointer);
    static void on_selector_done(GObject*, GAsyncResult*, gpointer);
    static void on_prepare_done(GObject*, GAsyncResult*, gpointer);
    static gboolean on_print_watchdog(gpointer);
    static gboolean on_print_lost(gpointer);
    static gboolean on_capture_lost(gpointer);
    static gboolean on_reset_watchdog(gpointer);
    static gboolean on_reset_delay(gpointer);
    static gboolean on_recycle(gpointer);
    static void on_script_done(GObject*, GAsyncResult*, gpointer);
    static void on_scroll_done(GObject*, GAsyncResult*, gpointer);
    static void on_images_done(GObject*, GAsyncResult*, gpointer);
    static void on_cleanup_done(GObject*, GAsyncResult*, gpointer);
    static void on_snapshot_done(GObject*, GAsyncResult*, gpointer);
    static void on_site_data_cleared(GObject*, GAsyncResult*, gpointer);

    // One log line of this view, with the current job's ids when there is
    // one.
    void note(log::Level level, const char* what, const std::string& detail = {}) const;

    const int index_;
    const std::string printer_name_;
    const ViewLimits limits_;
    const OutboundGate& gate_;
    const ContentFilters& filters_;
    WorkThread& work_;
    OnResult on_result_;
    OnIdle on_idle_;

    GObjectPtr<WebKitWebContext> context_;
    GObjectPtr<WebKitDownload> download_;  // the job's document, while Downloading
    ToplevelPtr window_;
    WebKitWebView* view_ = nullptr;  // owned by window_
    int jobs_on_view_ = 0;
    // The web process died while the work thread finished a PDF: the view
    // is replaced once that is done, not under it.
    bool view_lost_ = false;
    // ... because its web process died (not a callback that threw), and
    // why: a reprint, the bands or a tiled screenshot's remaining tiles
    // cannot be made, and a write cut short is no full disk.
    bool web_process_died_ = false;
    WebKitWebProcessTerminationReason death_reason_ = WEBKIT_WEB_PROCESS_CRASHED;
    // Callbacks that threw since the last job succeeded: past a few, the
    // child ends (the pool starts a fresh one, with its backoff) rather
    // than replace views in a loop.
    int callback_faults_ = 0;
    // The work thread holds this slot's file (Finishing, or Draining after
    // an answer given meanwhile).
    bool finish_pending_ = false;
    // Set-up steps still running before the job's load; whether the page
    // holds extra request headers (view_slot_credentials.cpp).
    int credential_steps_ = 0;
    bool page_has_headers_ = false;

    Stage stage_ = Stage::Idle;
    std::optional<Job> job_;
    // Bumped for every job and every view: async callbacks carry the value
    // they were started with and are ignored when it no longer matches.
    std::uint64_t generation_ = 0;
    GObjectPtr<GCancellable> cancellable_;
    SourceId deadline_;
    SourceId settle_timer_;
    SourceId delay_timer_;
    SourceId print_watchdog_;
    SourceId capture_lost_;  // fail_capture's wait
    std::string capture_what_;
    WriteError capture_error_;
    SourceId reset_watchdog_;
    SourceId reset_delay_;  // defer_reset
    SourceId recycle_source_;
    SourceId reload_source_;

    gint64 started_us_ = 0;
    gint64 load_finished_us_ = 0;
    gint64 last_network_us_ = 0;
    gint64 output_started_us_ = 0;  // for the per-stage timing in the log
    // The PDF output's parts, for the same log line: the print preparation
    // script, WebKit's prints (body, a retry, the bands) and our
    // post-processing (placing marks, rewriting).
    gint64 prepare_us_ = 0;
    gint64 print_started_us_ = 0;
    gint64 print_us_ = 0;
    gint64 postprocess_us_ = 0;
    std::unordered_set<WebKitWebResource*> pending_resources_;
    int http_status_ = 0;
    bool job_load_started_ = false;
    bool job_load_committed_ = false;
    bool stopping_load_ = false;  // our own stop_loading: its cancellation is expected
    int load_retries_ = 0;
    // Network quiet (settle_rule.h): whether the page can start no request
    // by itself any more and waits the short quiet period; for the log,
    // why (the first thing that makes it wait the full one, or "inert").
    bool page_inert_ = false;
    std::string settle_reason_;

    // Measured by kPreparePrintScript for the post-processing.
    std::string page_facts_json_;
    double single_page_height_mm_ = 0;
    bool single_page_retried_ = false;

    GObjectPtr<WebKitPrintOperation> print_op_;
    GErrorPtr print_error_;
    std::string temp_path_;  // output is written here, renamed to out_path when complete

    // Header/footer state. The title and URL are taken before the band
    // document replaces the page in the view.
    std::string bands_path_;  // empty: no bands printed (yet)
    bool printing_bands_ = false;
    bool band_load_started_ = false;
    // The reset's own about:blank load has started: only its FINISHED ends
    // the reset (the failed job's load reports FINISHED after it, too).
    bool reset_load_started_ = false;
    int body_pages_ = 0;
    std::string job_title_;
};

}  // namespace enconvert::render_child
