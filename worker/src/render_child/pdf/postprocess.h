// Rewrites a PDF printed by WebKitGTK into what customers expect from a
// browser's PDF: fonts subset and de-duplicated, clickable links, an
// outline, document metadata, header/footer stamped. One pass over the
// file with qpdf.
#pragma once

#include <string>
#include <vector>

#include "render_child/pdf/marks.h"
#include "render_child/write_error.h"

namespace enconvert::render_child::pdf {

struct PostProcessInput {
    DocumentInfo info;
    std::vector<LinkArea> links;
    std::vector<OutlineEntry> outline;  // empty: no outline
    bool grayscale = false;
    // PDF whose page i is stamped onto page i (header/footer); empty: none.
    std::string overlay_path;
};

// What a rewrite did, for the caller's log.
struct PostProcessStats {
    int font_programs = 0;
    int fonts_subset = 0;
    int duplicate_fonts_dropped = 0;
    int type3_fonts_replaced = 0;  // by the system face they were drawn from
    int type3_fonts_kept = 0;
    int links = 0;
    int outline_entries = 0;
    int pages_stamped = 0;
};

// Rewrites `path` in place (through a temporary file next to it). Nothing
// failed() on success, else why, and whether for want of room; the file is
// then unchanged.
WriteError postprocess(const std::string& path, const PostProcessInput& input,
                       PostProcessStats* stats = nullptr);

// Number of pages of a PDF, 0 when it cannot be read.
int page_count(const std::string& path);

}  // namespace enconvert::render_child::pdf
