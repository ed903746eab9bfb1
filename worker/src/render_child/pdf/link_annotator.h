// Adds /Link annotations with URI actions, which WebKitGTK's printing does
// not write, so links in the PDF are clickable as in Chromium's.
#pragma once

#include <qpdf/QPDF.hh>
#include <vector>

#include "render_child/pdf/postprocess.h"

namespace enconvert::render_child::pdf {

// Links on pages the PDF does not have are dropped. Returns how many were added.
int add_links(QPDF& pdf, const std::vector<LinkArea>& links);

}  // namespace enconvert::render_child::pdf
