// Adds /Link annotations, which WebKitGTK's printing does not write, so
// links in the PDF are clickable as in Chromium's: URI actions for links
// out of the document, explicit destinations for links within it.
#pragma once

#include <qpdf/QPDF.hh>
#include <vector>

#include "render_child/pdf/marks.h"

namespace enconvert::render_child::pdf {

// Links on pages the PDF does not have, or jumping to one, are dropped.
// Returns how many were added.
int add_links(QPDF& pdf, const std::vector<LinkArea>& links);

}  // namespace enconvert::render_child::pdf
