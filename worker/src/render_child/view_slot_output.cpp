// The producing half of a job: print to PDF (then post-process) or take a
// snapshot and encode it.
#include <cairo.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "render_child/band_document.h"
#include "render_child/image_writer.h"
#include "render_child/link_layout.h"
#include "render_child/page_scripts.h"
#include "render_child/pdf_finish.h"
#include "render_child/print_setup.h"
#include "render_child/table_headers.h"
#include "render_child/tiled_snapshot.h"
#include "render_child/view_slot.h"
#include "render_child/view_slot_internal.h"

namespace enconvert::render_child {
namespace {

// A print whose file could not be written for want of room. The print
// engine's error is GIO's ("Error writing to file: No space left on
// device"); its code may not survive the way to this process, the system's
// sentence (in this process's language, which the web process shares)
// does.
bool means_no_space(const GError* error) {
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE)) return true;
    const std::string message = error->message ? error->message : "";
    for (int err : {ENOSPC, EDQUOT})
        if (message.find(g_strerror(err)) != std::string::npos) return true;
    return false;
}

}  // namespace

using namespace slot_detail;

namespace {
// single_page: the sheet is the document's height plus this slack, so
// rounding never spills a last line onto a second page.
constexpr double kSinglePageSlackMm = 2;
// Print layout runs a little longer than the screen layout it is measured
// on (page-break avoidance, print styles).
constexpr double kSinglePageGrowth = 1.06;
constexpr double kMaxPageMm = 5080;  // 200 in, the largest page viewers show
}  // namespace

void ViewSlot::produce_output() {
    output_started_us_ = g_get_monotonic_time();
    prepare_us_ = print_us_ = postprocess_us_ = 0;
    if (job_->format == "pdf")
        prepare_print();
    else
        start_snapshot();
}

// ---- PDF ---------------------------------------------------------------

void ViewSlot::prepare_print() {
    stage_ = Stage::Preparing;
    // Printing needs no screen. Hidden, the view stops painting its
    // viewport for the relayouts of the print preparation and the print
    // (a 1920x1080 bitmap per update, blended by this process): CPU per
    // page 272 -> 205 ms on the fixture pages (docs/benchmarks.md). It stays
    // hidden for the next job's load and is shown for its waits
    // (on_load_finished). The title is taken first: some pages change it
    // when hidden.
    if (const char* title = webkit_web_view_get_title(view_)) job_title_ = title;
    gtk_widget_hide(window_.get());
    page_facts_json_.clear();
    single_page_height_mm_ = 0;
    single_page_retried_ = false;
    GVariantDict args;
    g_variant_dict_init(&args, nullptr);
    g_variant_dict_insert(&args, "width", "d", printable_width_css_px(job_->pdf));
    g_variant_dict_insert(&args, "zoom", "d", print_zoom(job_->pdf));
    // One endless sheet (single_page) has no page breaks to repeat at.
    g_variant_dict_insert(&args, "pageHeight", "d",
                          job_->single_page ? 0.0 : printable_height_css_px(job_->pdf));
    const std::string script = std::string(kRepeatTableHeadersFunction) + kPreparePrintScript;
    run_script(script.c_str(), g_variant_dict_end(&args), tag_guard<&ViewSlot::on_prepare_done>);
}

void ViewSlot::on_prepare_done(GObject* source, GAsyncResult* result, gpointer data) {
    const ScriptReply reply = take_script_reply(source, result, data, Stage::Preparing);
    ViewSlot* self = reply.slot;
    if (!self) return;
    self->prepare_us_ = g_get_monotonic_time() - self->output_started_us_;
    if (std::optional<std::string> facts = reply.text()) {
        self->page_facts_json_ = std::move(*facts);
    } else {
        // Without the facts the PDF still prints, just without links.
        self->note(log::Level::warning, "print preparation script failed", reply.error);
    }
    if (self->job_->single_page) {
        const PdfOptions& p = self->job_->pdf;
        const double height_px =
            facts_height(self->page_facts_json_).value_or(printable_height_css_px(p));
        const double content_mm = height_px * 25.4 / 96.0 * p.scale;
        self->single_page_height_mm_ =
            std::min(kMaxPageMm, content_mm * kSinglePageGrowth + p.margin_top_mm +
                                     p.margin_bottom_mm + kSinglePageSlackMm);
    }
    self->start_print();
}

void ViewSlot::start_print() {
    print_to(temp_path_, job_->pdf, single_page_height_mm_);
}

void ViewSlot::print_to(const std::string& path, const PdfOptions& pdf, double sheet_height_mm) {
    stage_ = Stage::Printing;
    unlink(path.c_str());
    GError* raw = nullptr;
    GCharPtr uri(g_filename_to_uri(path.c_str(), nullptr, &raw));
    GErrorPtr error(raw);
    if (!uri) {
        fail("print_failed", std::string("Failed to print page: ") + error->message);
        return;
    }
    webkit_settings_set_print_backgrounds(webkit_web_view_get_settings(view_),
                                          job_->pdf.print_background);
    PrintSetup setup = make_print_setup(pdf, sheet_height_mm, printer_name_, uri.get());
    print_error_.reset();
    print_op_.reset(webkit_print_operation_new(view_));
    webkit_print_operation_set_print_settings(print_op_.get(), setup.settings.get());
    webkit_print_operation_set_page_setup(print_op_.get(), setup.page.get());
    g_signal_connect(print_op_.get(), "failed", G_CALLBACK(slot_guard<&ViewSlot::on_print_failed>),
                     this);
    g_signal_connect(print_op_.get(), "finished",
                     G_CALLBACK(slot_guard<&ViewSlot::on_print_finished>), this);
    print_watchdog_.reset(
        g_timeout_add(kPrintWatchdogMs, slot_guard<&ViewSlot::on_print_watchdog>, this));
    print_started_us_ = g_get_monotonic_time();
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
        remove_job_files(self->temp_path_, self->bands_path_);
        self->begin_reset();
        return;
    }
    if (self->stage_ != Stage::Printing) return;
    self->print_us_ += g_get_monotonic_time() - self->print_started_us_;
    const std::string& printed = self->printing_bands_ ? self->bands_path_ : self->temp_path_;
    if (self->print_error_ || access(printed.c_str(), F_OK) != 0) {
        // Usually the web process died under the print (killed at the
        // memory limit, crashed); its termination signal can come just
        // after this one and names the real cause, so give it a moment.
        self->print_watchdog_.reset(
            g_timeout_add(kDeathReportGraceMs, slot_guard<&ViewSlot::on_print_lost>, self));
        return;
    }
    // With the bands printed, finishing checks they match the body and
    // stamps them.
    self->finish_pdf();
}

gboolean ViewSlot::on_print_lost(gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    self->print_watchdog_.release();
    if (self->stage_ != Stage::Printing) return G_SOURCE_REMOVE;
    if (!self->print_error_) {
        self->fail("print_failed", "Failed to print page: the printed file is missing");
        return G_SOURCE_REMOVE;
    }
    self->fail_write("Failed to print page: ",
                     {self->print_error_->message, means_no_space(self->print_error_.get())});
    return G_SOURCE_REMOVE;
}

gboolean ViewSlot::on_print_watchdog(gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    self->print_watchdog_.release();
    self->note(log::Level::warning, "print did not finish; replacing the view");
    if (self->stage_ == Stage::Printing)
        self->fail("print_failed", "Failed to print page: printing did not finish");
    if (self->print_op_) g_signal_handlers_disconnect_by_data(self->print_op_.get(), self);
    self->print_op_.reset();
    remove_job_files(self->temp_path_, self->bands_path_);
    self->recycle_soon();
    return G_SOURCE_REMOVE;
}

void ViewSlot::finish_pdf() {
    FinishRequest request;
    request.path = temp_path_;
    if (printing_bands_) {
        request.overlay_path = bands_path_;
        request.body_pages = body_pages_;
    }
    // The measurement is taken on the screen layout; if print layout came
    // out longer, the slot prints once more on a sheet certainly tall enough.
    request.stop_if_pages_spill =
        single_page_height_mm_ > 0 && !single_page_retried_ && single_page_height_mm_ < kMaxPageMm;
    request.stop_for_bands = (job_->pdf.header || job_->pdf.footer) && !printing_bands_;
    request.page_facts_json = page_facts_json_;
    request.title = job_title_;  // as shown before the print (prepare_print)
    request.pdf = job_->pdf;
    request.sheet_height_mm = single_page_height_mm_;
    auto result = std::make_shared<FinishResult>();
    off_loop([request = std::move(request), result] { *result = finish_printed_pdf(request); },
             [this, result](const std::string& error) {
                 if (!error.empty()) {
                     result->next = FinishResult::Next::Failed;
                     result->error = "Failed to finish PDF: " + error;
                 }
                 on_pdf_finished(*result);
             });
}

void ViewSlot::on_pdf_finished(const FinishResult& result) {
    for (const FinishNote& n : result.notes) note(n.level, n.what.c_str(), n.detail);
    const bool needs_view =
        result.next == FinishResult::Next::Reprint || result.next == FinishResult::Next::Bands;
    if (needs_view && web_process_died_) {
        fail_for_dead_web_process(death_reason_);
        return;
    }
    switch (result.next) {
        case FinishResult::Next::Reprint:
            single_page_retried_ = true;
            single_page_height_mm_ = std::min(kMaxPageMm, single_page_height_mm_ * result.pages);
            start_print();
            return;
        case FinishResult::Next::Bands:
            start_bands(result.pages);
            return;
        case FinishResult::Next::Failed:
            postprocess_us_ = static_cast<gint64>(result.postprocess_ms * 1000);
            // A print cut short by the web process's death is no full disk.
            if (result.no_space && web_process_died_)
                fail_for_dead_web_process(death_reason_);
            else
                fail_write("", {result.error, result.no_space});
            return;
        case FinishResult::Next::Done:
            postprocess_us_ = static_cast<gint64>(result.postprocess_ms * 1000);
            succeed();
            return;
    }
}

// ---- header and footer -------------------------------------------------

void ViewSlot::start_bands(int body_pages) {
    BandValues values;
    values.total_pages = body_pages;
    body_pages_ = body_pages;
    values.title = job_title_;
    const char* uri = webkit_web_view_get_uri(view_);
    values.url = uri ? uri : job_->url;
    values.date = today_utc();
    const double sheet_mm =
        single_page_height_mm_ > 0 ? single_page_height_mm_ : job_->pdf.page_height_mm;
    std::string html;
    try {
        html = band_document(job_->pdf, sheet_mm, values);
    } catch (const BandDocumentTooLarge& e) {
        fail("print_failed", e.what());
        return;
    }

    stage_ = Stage::Banding;
    printing_bands_ = true;
    band_load_started_ = false;
    bands_path_ = job_->out_path + ".bands.pdf";
    // Templates are markup, not programs (as in Chromium); no script may
    // hold the print up or change what it shows.
    webkit_settings_set_enable_javascript(webkit_web_view_get_settings(view_), FALSE);
    // WebKit paints the view's base colour (white) under every printed
    // page; the stamp must leave the body visible.
    const GdkRGBA transparent{0, 0, 0, 0};
    webkit_web_view_set_background_color(view_, &transparent);
    webkit_web_view_load_html(view_, html.c_str(), "about:blank");
}

// Called from load-changed for the band document.
void ViewSlot::print_bands() {
    PdfOptions sheet = job_->pdf;
    sheet.margin_top_mm = sheet.margin_right_mm = sheet.margin_bottom_mm = sheet.margin_left_mm = 0;
    print_to(bands_path_, sheet, single_page_height_mm_);
}

// ---- screenshots -------------------------------------------------------

void ViewSlot::start_snapshot() {
    stage_ = Stage::Snapshotting;
    if (!job_->full_page) {
        take_snapshot(WEBKIT_SNAPSHOT_REGION_VISIBLE);
        return;
    }
    // Tall pages are captured in tiles (tiled_snapshot.h); the capture
    // calls back only while cancellable_ (cancelled when the job is
    // answered or the slot goes away) is not cancelled.
    const std::uint64_t generation = generation_;
    // Each tile's rows are encoded on the work thread (off_loop: the job
    // is Finishing meanwhile, and a job answered then drains as a PDF's).
    auto offload = [this](std::function<void()> work,
                          std::function<void(const std::string&)> then) {
        off_loop(std::move(work), [this, then = std::move(then)](const std::string& error) {
            if (web_process_died_) {
                // The web process died while the tile was encoded (its
                // termination waited for the work, as for a PDF's): the
                // rest of the page cannot be captured.
                fail_for_dead_web_process(death_reason_);
                return;
            }
            stage_ = Stage::Snapshotting;
            then(error);
        });
    };
    TiledSnapshot::start(
        view_, cancellable_.get(), job_->format, job_->image_quality, temp_path_,
        std::move(offload),
        [this, generation](const TiledSnapshot::Result& result) {
            if (generation != generation_ || stage_ != Stage::Snapshotting) return;
            if (result.single)
                take_snapshot(WEBKIT_SNAPSHOT_REGION_FULL_DOCUMENT);
            else if (result.view_failed)
                fail_capture("Failed to capture page: ", result.error);
            else if (result.error.failed())
                fail_write("Failed to capture page: ", result.error);
            else
                succeed();
        },
        [this, generation](const char* what) { callback_threw(generation, what); });
}

void ViewSlot::fail_capture(std::string what, WriteError error) {
    capture_what_ = std::move(what);
    capture_error_ = std::move(error);
    capture_lost_.reset(
        g_timeout_add(kDeathReportGraceMs, slot_guard<&ViewSlot::on_capture_lost>, this));
}

gboolean ViewSlot::on_capture_lost(gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    self->capture_lost_.release();
    if (self->stage_ == Stage::Snapshotting)
        self->fail_write(self->capture_what_, self->capture_error_);
    return G_SOURCE_REMOVE;
}

void ViewSlot::take_snapshot(WebKitSnapshotRegion region) {
    webkit_web_view_get_snapshot(view_, region, WEBKIT_SNAPSHOT_OPTIONS_NONE, cancellable_.get(),
                                 tag_guard<&ViewSlot::on_snapshot_done>,
                                 new AsyncTag{this, generation_});
}

void ViewSlot::on_snapshot_done(GObject* source, GAsyncResult* result, gpointer data) {
    GError* raw = nullptr;
    std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)> surface(
        webkit_web_view_get_snapshot_finish(WEBKIT_WEB_VIEW(source), result, &raw),
        &cairo_surface_destroy);
    GErrorPtr error(raw);
    ViewSlot* self = slot_if_current(data, Stage::Snapshotting);
    if (!self) return;
    if (!surface) {
        self->fail_capture("Failed to capture page: ", {error ? error->message : "no image"});
        return;
    }
    unlink(self->temp_path_.c_str());
    // Encoding a tall page takes seconds (PNG, WebP): the work thread's,
    // so the child's other views go on meanwhile.
    std::shared_ptr<cairo_surface_t> image(surface.release(), &cairo_surface_destroy);
    auto why = std::make_shared<WriteError>();
    self->off_loop(
        [image, why, format = self->job_->format, quality = self->job_->image_quality,
         path = self->temp_path_] { *why = write_image(image.get(), format, quality, path); },
        [self, why](const std::string& error) {
            if (!error.empty())
                self->fail("print_failed", "Failed to write image: " + error);
            else if (why->failed())
                self->fail_write("Failed to write image: ", *why);
            else
                self->succeed();
        });
}

}  // namespace enconvert::render_child
