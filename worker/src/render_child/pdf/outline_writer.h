// Writes the document outline (PDF bookmarks) from the printed headings,
// nested by heading level, each opening its heading's page at its place.
#pragma once

#include <qpdf/QPDF.hh>
#include <qpdf/QPDFPageObjectHelper.hh>
#include <vector>

#include "render_child/pdf/marks.h"

namespace enconvert::render_child::pdf {

// Entries in document order. A heading nests under the nearest earlier
// heading of a lower level (h1 > h3 > h4 puts the h3 under the h1 even
// without an h2). Entries on pages the PDF does not have are dropped.
// With at least one entry the viewer is asked to show the outline
// (/PageMode /UseOutlines). Returns how many entries were written.
int write_outline(QPDF& pdf, const std::vector<OutlineEntry>& entries);

// [page /XYZ x y null]: open `dest`'s page with that point at the top left,
// keeping the zoom. Null when the page does not exist. `pages`: the
// document's (QPDFPageDocumentHelper::getAllPages), listed once by the
// caller: listing them for every entry made outlines and internal links
// quadratic in the pages.
QPDFObjectHandle destination_array(const std::vector<QPDFPageObjectHelper>& pages,
                                   const Destination& dest);

}  // namespace enconvert::render_child::pdf
