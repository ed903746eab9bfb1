// A job whose URL answers with something that is not a web page. WebKit
// would turn it into a download nobody waits for, and the job would hold its
// view until the deadline (then fail with a misleading timeout). A PDF
// asked for as a PDF is the result the customer wants: it is saved as the
// output, through the same outbound gate as any page load. Anything else
// (a PDF for a screenshot, an archive, an image asked for as a PDF…) fails
// at once with unsupported_content_type.
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "render_child/load_error.h"
#include "render_child/pdf_probe.h"
#include "render_child/view_slot.h"
#include "render_child/view_slot_internal.h"
#include "storage/file_check.h"

namespace enconvert::render_child {

namespace {

bool is_pdf_type(const std::string& mime) {
    return mime == "application/pdf" || mime == "application/x-pdf";
}

// A write error's message naming a full disk or a spent quota, in this
// process's locale (GIO writes g_strerror's text).
bool says_no_space(const char* message) {
    return message != nullptr && (std::strstr(message, g_strerror(ENOSPC)) != nullptr ||
                                  std::strstr(message, g_strerror(EDQUOT)) != nullptr);
}

}  // namespace

bool ViewSlot::decide_document_type(WebKitResponsePolicyDecision* decision) {
    if (stage_ != Stage::Loading || job_load_committed_ ||
        !webkit_response_policy_decision_is_main_frame_main_resource(decision))
        return false;
    WebKitURIResponse* response = webkit_response_policy_decision_get_response(decision);
    const char* type = webkit_uri_response_get_mime_type(response);
    const std::string mime = type ? type : "";
    // WebKitGTK 2.50 "displays" PDFs with its built-in PDF.js viewer, which
    // a print or snapshot cannot use: a PDF is never rendered as a page.
    if (webkit_response_policy_decision_is_mime_type_supported(decision) && !is_pdf_type(mime))
        return false;
    const int status = static_cast<int>(webkit_uri_response_get_status_code(response));
    if (job_->fail_on_http_error && status >= 400) {
        webkit_policy_decision_ignore(WEBKIT_POLICY_DECISION(decision));
        const LoadError e = http_error(job_->url, status);
        fail(e.code, e.message);
        return true;
    }
    if (job_->format == "pdf" && is_pdf_type(mime)) {
        // The response already received becomes the download (no second
        // request); the context's download-started hands it to us.
        stage_ = Stage::Downloading;
        http_status_ = status;
        load_finished_us_ = output_started_us_ = g_get_monotonic_time();
        webkit_policy_decision_download(WEBKIT_POLICY_DECISION(decision));
        return true;
    }
    webkit_policy_decision_ignore(WEBKIT_POLICY_DECISION(decision));
    const std::string what = mime.empty() ? "a file of unknown type" : "a file of type " + mime;
    fail("unsupported_content_type",
         "The URL serves " + what + ", not a web page" +
             (is_pdf_type(mime) ? ": it cannot be captured as a screenshot; convert it with "
                                  "url-to-pdf to receive the PDF itself"
                                : ""));
    return true;
}

void ViewSlot::on_download_started(WebKitWebContext*, WebKitDownload* download, gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    // A renderer never saves anything else (a page's own download links).
    if (self->stage_ != Stage::Downloading || self->download_) {
        webkit_download_cancel(download);
        return;
    }
    self->download_.reset(WEBKIT_DOWNLOAD(g_object_ref(download)));
    g_signal_connect(
        download, "decide-destination",
        G_CALLBACK(
            (slot_guard_or<&ViewSlot::on_download_destination, &ViewSlot::refuse_destination>)),
        self);
    g_signal_connect(download, "failed", G_CALLBACK(slot_guard<&ViewSlot::on_download_failed>),
                     self);
    g_signal_connect(download, "finished", G_CALLBACK(slot_guard<&ViewSlot::on_download_finished>),
                     self);
    g_signal_connect(download, "received-data",
                     G_CALLBACK(slot_guard<&ViewSlot::on_download_received>), self);
}

// A server that streams without end (or a PDF larger than any page's
// output) would fill the storage before the job's timeout ends it.
void ViewSlot::on_download_received(WebKitDownload* download, guint64, gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    if (self->download_.get() != download) return;
    const guint64 limit = static_cast<guint64>(self->limits_.max_download_mb) << 20;
    if (webkit_download_get_received_data_length(download) <= limit) return;
    self->stop_download();
    self->fail("file_too_large", "The URL serves a PDF larger than " +
                                     std::to_string(self->limits_.max_download_mb) +
                                     " MB, the largest this service saves");
}

gboolean ViewSlot::on_download_destination(WebKitDownload* download, gchar*, gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    if (self->download_.get() != download) {
        webkit_download_cancel(download);
        return TRUE;
    }
    webkit_download_set_allow_overwrite(download, TRUE);
    webkit_download_set_destination(download, self->temp_path_.c_str());
    return TRUE;
}

void ViewSlot::on_download_failed(WebKitDownload* download, GError* error, gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    if (self->download_.get() != download) return;
    g_signal_handlers_disconnect_by_data(download, self);
    self->download_.reset();
    // Writing the download is where this job meets a full disk: queued
    // again for when there is room, as a print is (it failed for good as
    // load_failed). WebKit reports it as a destination error carrying GIO's
    // message, "Error writing to file: <strerror>", and has removed the
    // partial file by then, so the free space alone does not tell.
    if (g_error_matches(error, WEBKIT_DOWNLOAD_ERROR, WEBKIT_DOWNLOAD_ERROR_DESTINATION) &&
        (says_no_space(error->message) || self->output_dir_is_full())) {
        self->fail_storage_full();
        return;
    }
    const LoadError e = classify_load_error(error, self->job_->url);
    self->fail(e.code, e.message);
}

void ViewSlot::on_download_finished(WebKitDownload* download, gpointer data) {
    auto* self = static_cast<ViewSlot*>(data);
    if (self->download_.get() != download) return;  // failed, or the job ended
    g_signal_handlers_disconnect_by_data(download, self);
    self->download_.reset();
    // The server's word that it is a PDF is not enough to store it as one.
    // Reading it is the work thread's (a damaged cross-reference table of a
    // large file is rebuilt by scanning all of it), in a probe process
    // under limits: the file is the internet's (pdf_probe.h).
    auto pages = std::make_shared<int>(0);
    auto incomplete = std::make_shared<std::string>();
    self->off_loop(
        [pages, incomplete, path = self->temp_path_] {
            *pages = count_pdf_pages_in_probe("/proc/self/exe", path);
            // What qpdf reads the storage may still refuse as a cut-off
            // file (storage::check_rendered): text before %PDF-, more than
            // 1 KB after %%EOF, no %%EOF. Said here, as the page's fault,
            // not later as a storage_error.
            if (*pages >= 1) *incomplete = storage::check_complete(path, "pdf");
        },
        [self, pages, incomplete](const std::string&) {
            if (*pages < 1) {
                self->fail("unsupported_content_type",
                           "The URL serves a file labelled application/pdf that is not "
                           "a readable PDF");
                return;
            }
            if (!incomplete->empty()) {
                self->fail("unsupported_content_type",
                           "The URL serves a PDF that cannot be saved as it is (" + *incomplete +
                               "): a PDF must begin with %PDF- and end with %%EOF");
                return;
            }
            self->note(log::Level::info, "the URL is a PDF: saved as it is");
            self->succeed();
        });
}

// The job ended some other way (deadline, cancel): the transfer stops and
// its late signals are ignored.
void ViewSlot::stop_download() {
    if (!download_) return;
    GObjectPtr<WebKitDownload> download = std::move(download_);
    g_signal_handlers_disconnect_by_data(download.get(), this);
    webkit_download_cancel(download.get());
}

}  // namespace enconvert::render_child
