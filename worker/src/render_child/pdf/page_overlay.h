// Stamps the pages of one PDF onto the pages of another: page i of the
// overlay becomes a form XObject drawn over body page i, scaled to the body
// page's MediaBox. How header and footer bands reach the printed pages.
#pragma once

#include <qpdf/QPDF.hh>

namespace enconvert::render_child::pdf {

// `overlay` must stay alive until `body` has been written (qpdf copies
// foreign stream data lazily). Body pages beyond the overlay's page count
// are left as they are. Returns how many pages were stamped.
int overlay_pages(QPDF& body, QPDF& overlay);

}  // namespace enconvert::render_child::pdf
