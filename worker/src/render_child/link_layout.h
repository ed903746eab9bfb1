// Places the links measured in the page (CSS px of the document laid out at
// the printable width) onto the printed pages, in PDF points.
//
// Approximation: printing slices the flow into pages of the printable
// height; WebKit pushes a line that would straddle a page break onto the
// next page, so boxes further down a long document can drift by up to a
// line per page. Links are found by the page, not by the PDF's text.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "render_child/job.h"
#include "render_child/pdf/postprocess.h"

namespace enconvert::render_child {

// `facts` is kPreparePrintScript's result; `page_height_mm` the printed
// sheet's height (differs from pdf.page_height_mm for single_page).
std::vector<pdf::LinkArea> place_links(const nlohmann::json& facts, const PdfOptions& pdf,
                                       double page_height_mm);

}  // namespace enconvert::render_child
