// One render request as the child understands it, parsed defensively from
// the wire map (schema/messages.md §2), and the result sent back.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "render_child/request_credentials.h"

namespace enconvert::render_child {

enum class WaitUntil { Load, NetworkIdle };

// A header or footer template, stamped into the page margin.
struct Band {
    std::string content;    // HTML with {{page}}, {{total_pages}}, ...
    double height_mm = 15;  // the hosted service's default
};

// pdf_options.metadata: each member given replaces the page's own value
// (an empty string removes it).
struct PdfMetadata {
    std::optional<std::string> title;
    std::optional<std::string> author;
    std::optional<std::string> subject;
    std::optional<std::string> keywords;
};

// pdf_options of the API (docs/api.md), resolved: orientation already applied to the size.
struct PdfOptions {
    double page_width_mm = 210;
    double page_height_mm = 297;
    bool landscape = false;
    double margin_top_mm = 10;
    double margin_right_mm = 10;
    double margin_bottom_mm = 10;
    double margin_left_mm = 10;
    double scale = 1;
    bool print_background = true;
    bool grayscale = false;
    std::optional<Band> header;
    std::optional<Band> footer;
    // Bookmarks from the page's headings (pdf_options.outline).
    bool outline = true;
    // pdf_options.layout_width "viewport": lay the page out at the viewport
    // width (and shrink it onto the paper) instead of the paper's width.
    bool layout_at_viewport = false;
    PdfMetadata metadata;
};

// The most sheets a PDF is printed with. WebKit is asked for two more
// (make_print_setup) and a print that has more once a near-empty last
// sheet is dropped fails (finish_printed_pdf): the document is longer. Without the bound a page of
// 20,000 page breaks held the web process until the print watchdog (30 s); WebKit still lays the
// whole document out, but prints only the pages asked for (60,000 breaks: 28 s -> well under the
// watchdog at 2,001 pages).
inline constexpr int kMaxPrintedPages = 5000;

struct Job {
    std::uint64_t id = 0;  // the worker's task id
    std::string job_id;    // for the log only
    std::string url;
    std::string format;  // "pdf", "png", "jpeg" or "webp"
    std::string out_path;
    int viewport_width = 1920;
    int viewport_height = 1080;
    double timeout_seconds = 60;  // the client's, as messages name it
    // The view's deadline: timeout_seconds less the time the job waited in
    // the renderer's queue, at least 1 s (Renderer::dispatch sets it).
    double budget_seconds = 60;
    WaitUntil wait_until = WaitUntil::NetworkIdle;
    std::string wait_for_selector;  // empty: none
    int wait_for_selector_timeout_ms = 10000;
    int delay_ms = 0;
    // A main document answering 4xx/5xx fails the task (http_error) unless
    // the client asks for the error page (fail_on_http_error: false).
    bool fail_on_http_error = true;
    // The vendor clients' page fields (docs/rendering.md, "Page fields").
    bool load_media = true;       // false: no images, video or audio
    bool wait_for_images = true;  // images finished before capture
    bool enable_scroll = true;    // scrolled through once for lazy loaders
    bool block_media = false;     // no video/audio requests
    bool block_ads = false;       // the shipped ad list (content_filters.h)
    bool handle_cookies = true;   // consent banners hidden
    // Fixed/sticky headers printed once: WebKit does so already (docs/rendering.md).
    bool handle_sticky_header = true;
    // When the request arrived (g_get_monotonic_time), for the log's
    // "queued" figure: time spent waiting for a free view.
    std::int64_t received_us = 0;
    // cookies, headers, auth: secrets, never logged.
    RequestCredentials credentials;
    // PDF only.
    bool single_page = false;
    PdfOptions pdf;
    // Screenshots only.
    int image_quality = 90;
    bool full_page = true;
};

struct Outcome {
    bool ok = false;
    std::string error_code;  // schema/messages.md
    std::string error;       // sentence for the user
    std::string title;
    int http_status = 0;  // main resource status, 0 when unknown
    double render_ms = 0;
    int view = -1;           // index of the view that ran it; -1: none (rejected)
    std::int64_t size = -1;  // ok: bytes written and synced at out_path
};

struct ParsedRequest {
    std::optional<std::uint64_t> id;  // absent: nobody to answer
    std::optional<Job> job;           // absent: `rejection` says why
    std::string rejection;
};

ParsedRequest parse_request(const nlohmann::json& message);

nlohmann::json result_message(std::uint64_t id, const Outcome& outcome);

}  // namespace enconvert::render_child
