// Decides for every link and heading the page measured whether it was
// printed and where: its text is looked for in the printed PDF, and of the
// places it occurs the one nearest the page's own measurement wins, that
// measurement corrected by how far the marks placed before it had moved.
//
// - A link or heading whose text is not in the PDF was not printed (hidden
//   by print styles, clipped, off the page): no annotation, no bookmark.
// - Links cover their text, one box per printed line (and page).
// - Image-only links have no text to find: their measured boxes, moved by
//   the correction of the nearest placed mark, are kept only when each
//   lies wholly on one page's printable area.
// - #fragment links jump to the first printed text at their target.
#pragma once

#include <string>

#include "render_child/pdf/marks.h"
#include "render_child/pdf/page_text.h"

namespace enconvert::render_child::pdf {

PlacedMarks place_marks(const PageText& text, const PageGeometry& geometry,
                        const MarkSources& sources);

// Reads the printed PDF at `path` (poppler) and places the marks in it.
// A PDF that cannot be read places nothing and sets *error.
PlacedMarks place_marks(const std::string& path, const PageGeometry& geometry,
                        const MarkSources& sources, std::string* error);

}  // namespace enconvert::render_child::pdf
