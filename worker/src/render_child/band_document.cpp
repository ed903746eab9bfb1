#include "render_child/band_document.h"

#include <glib.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>

#include "render_child/print_setup.h"

namespace enconvert::render_child {
namespace {

std::string mm(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.3fmm", value);
    return buffer;
}

std::string zoom_value(double zoom) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.6f", zoom);
    return buffer;
}

}  // namespace

std::string html_escape(const std::string& text) {
    // GLib escapes exactly the five characters HTML text and attributes need.
    const std::unique_ptr<gchar, decltype(&g_free)> escaped(
        g_markup_escape_text(text.data(), static_cast<gssize>(text.size())), &g_free);
    return escaped.get();
}

std::string fill_placeholders(const std::string& content, int page, const BandValues& values) {
    const std::pair<const char*, std::string> table[] = {
        {"{{page}}", std::to_string(page)},
        {"{{total_pages}}", std::to_string(values.total_pages)},
        {"{{date}}", html_escape(values.date)},
        {"{{title}}", html_escape(values.title)},
        {"{{url}}", html_escape(values.url)},
    };
    std::string out;
    out.reserve(content.size() + 64);
    std::size_t at = 0;
    while (at < content.size()) {
        bool replaced = false;
        if (content.compare(at, 2, "{{") == 0) {
            for (const auto& [key, value] : table) {
                const std::size_t length = std::char_traits<char>::length(key);
                if (content.compare(at, length, key) == 0) {
                    out += value;
                    at += length;
                    replaced = true;
                    break;
                }
            }
        }
        if (!replaced) out += content[at++];
    }
    return out;
}

std::string band_document(const PdfOptions& pdf, double sheet_height_mm, const BandValues& values) {
    // Each sheet's bands are at most as long as the last sheet's (its page
    // number has the most digits), plus the sheet's own markup.
    const std::size_t per_sheet =
        (pdf.header ? fill_placeholders(pdf.header->content, values.total_pages, values).size()
                    : 0) +
        (pdf.footer ? fill_placeholders(pdf.footer->content, values.total_pages, values).size()
                    : 0) +
        96;
    const std::size_t sheets = static_cast<std::size_t>(std::max(values.total_pages, 0));
    if (sheets * per_sheet > kMaxBandDocumentBytes)
        throw BandDocumentTooLarge(
            "The header and footer would take " + std::to_string((sheets * per_sheet) >> 20) +
            " MB over the " + std::to_string(sheets) + " pages, more than the " +
            std::to_string(kMaxBandDocumentBytes >> 20) +
            " MB a document's header and footer may take: shorten them or the page");
    // Sheet boxes a hair shorter than the sheet, so rounding in WebKit's
    // pagination can never spill one onto an extra page.
    // The same print zoom as the body (at scale 1): CSS mm print as mm and
    // template font sizes match Chromium's. Bands are not scaled by
    // pdf_options.scale, as in Chromium.
    PdfOptions unscaled = pdf;
    unscaled.scale = 1;
    std::string html =
        "<!doctype html><html><head><meta charset=\"utf-8\"><style>"
        "@media print { html { zoom: " +
        zoom_value(print_zoom(unscaled)) +
        " !important; } }"
        "html, body { margin: 0; padding: 0; }"
        "body { font-family: sans-serif; font-size: 10px; line-height: 1.2; }"
        ".sheet { position: relative; overflow: hidden; height: calc(" +
        mm(sheet_height_mm) +
        " - 2px); break-after: page; page-break-after: always; }"
        ".sheet:last-child { break-after: auto; page-break-after: auto; }"
        // Aligned with the body's printable area horizontally, centred
        // vertically in its band.
        ".band { position: absolute; left: 0; right: 0; box-sizing: border-box; overflow: hidden;"
        " display: flex; flex-direction: column; justify-content: center;"
        " padding: 0 " +
        mm(pdf.margin_right_mm) + " 0 " + mm(pdf.margin_left_mm) +
        "; }"
        ".header { top: 0; height: " +
        mm(pdf.header ? pdf.header->height_mm : 0) +
        "; }"
        ".footer { bottom: 0; height: " +
        mm(pdf.footer ? pdf.footer->height_mm : 0) + "; }</style></head><body>";
    for (int page = 1; page <= values.total_pages; ++page) {
        html += "<div class=\"sheet\">";
        if (pdf.header)
            html += "<div class=\"band header\">" +
                    fill_placeholders(pdf.header->content, page, values) + "</div>";
        if (pdf.footer)
            html += "<div class=\"band footer\">" +
                    fill_placeholders(pdf.footer->content, page, values) + "</div>";
        html += "</div>";
    }
    html += "</body></html>";
    return html;
}

std::string today_utc() {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char buffer[16];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%d", &utc);
    return buffer;
}

}  // namespace enconvert::render_child
