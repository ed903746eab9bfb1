// Turns what the prepare script measured in the page (kPreparePrintScript:
// links, headings, #fragment targets, metadata; CSS px of the document
// laid out at the printable width with print styles) into the marks the
// PDF post-processing places in the printed file (pdf/mark_placer.h), in
// points of the printed flow.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "render_child/job.h"
#include "render_child/pdf/marks.h"

namespace enconvert::render_child {

// `facts` is kPreparePrintScript's result. Malformed entries are skipped.
pdf::MarkSources mark_sources(const nlohmann::json& facts, const PdfOptions& pdf);

// The page's height (CSS px) in kPreparePrintScript's result text, read
// without parsing the rest (single_page needs it on the main loop, which
// every view shares; the facts can be megabytes). Nothing when the text
// does not start with it.
std::optional<double> facts_height(const std::string& facts_json);

// The printed sheet: `sheet_height_mm` is its height (differs from
// pdf.page_height_mm for single_page).
pdf::PageGeometry page_geometry(const PdfOptions& pdf, double sheet_height_mm);

// The page's title (`title`: WebKit's view title, used when the facts have
// none), author, description and keywords; each replaced by the request's
// pdf_options.metadata member when that is given (an empty one removes it).
pdf::DocumentInfo document_info(const nlohmann::json& facts, const std::string& title,
                                const PdfOptions& pdf);

}  // namespace enconvert::render_child
