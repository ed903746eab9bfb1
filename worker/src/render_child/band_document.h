// The HTML document that header and footer templates are printed from.
//
// WebKit has no page-margin boxes, so the bands are printed separately after
// the body: one sheet per body page, the same size as the body's sheets,
// blank except for the header at the top and the footer at the bottom, with
// that page's placeholders filled in. pdf/page_overlay then stamps sheet i
// onto body page i. Substituted values are HTML-escaped; the template itself
// is the customer's HTML and is printed with JavaScript disabled.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include "render_child/job.h"

namespace enconvert::render_child {

struct BandValues {
    int total_pages = 0;
    std::string date;  // already formatted
    std::string title;
    std::string url;
};

// The largest band document made: a template repeating a long {{title}}
// hundreds of times over the sheets of a tall page came to gigabytes, and
// the renderer died of bad_alloc, its other views' jobs with it.
inline constexpr std::size_t kMaxBandDocumentBytes = 64u << 20;

// A band document that would be larger than kMaxBandDocumentBytes; what()
// is a sentence for the job's error.
class BandDocumentTooLarge : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// `sheet_height_mm` is the printed sheet's height (differs from
// pdf.page_height_mm for single_page). Precondition: pdf.header or pdf.footer.
// Throws BandDocumentTooLarge before building one that would be too large.
std::string band_document(const PdfOptions& pdf, double sheet_height_mm, const BandValues& values);

// One template with {{page}}, {{total_pages}}, {{date}}, {{title}}, {{url}}
// replaced by the escaped values; other {{...}} are left as written.
std::string fill_placeholders(const std::string& content, int page, const BandValues& values);

std::string html_escape(const std::string& text);

// Today's date as YYYY-MM-DD (UTC), what {{date}} shows.
std::string today_utc();

}  // namespace enconvert::render_child
