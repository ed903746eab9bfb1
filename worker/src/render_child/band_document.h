// The HTML document that header and footer templates are printed from.
//
// WebKit has no page-margin boxes, so the bands are printed separately after
// the body: one sheet per body page, the same size as the body's sheets,
// blank except for the header at the top and the footer at the bottom, with
// that page's placeholders filled in. pdf/page_overlay then stamps sheet i
// onto body page i. Substituted values are HTML-escaped; the template itself
// is the customer's HTML and is printed with JavaScript disabled.
#pragma once

#include <string>

#include "render_child/job.h"

namespace enconvert::render_child {

struct BandValues {
    int total_pages = 0;
    std::string date;  // already formatted
    std::string title;
    std::string url;
};

// `sheet_height_mm` is the printed sheet's height (differs from
// pdf.page_height_mm for single_page). Precondition: pdf.header or pdf.footer.
std::string band_document(const PdfOptions& pdf, double sheet_height_mm, const BandValues& values);

// One template with {{page}}, {{total_pages}}, {{date}}, {{title}}, {{url}}
// replaced by the escaped values; other {{...}} are left as written.
std::string fill_placeholders(const std::string& content, int page, const BandValues& values);

std::string html_escape(const std::string& text);

// Today's date as YYYY-MM-DD (UTC), what {{date}} shows.
std::string today_utc();

}  // namespace enconvert::render_child
