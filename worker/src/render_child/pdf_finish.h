// What happens to a printed PDF before it is the job's output: a near-empty
// last page dropped, the page count checked (single_page reprint,
// header/footer), links and bookmarks placed, the file rewritten
// (pdf/postprocess.h). It runs on the child's work thread (work_thread.h),
// so it touches nothing of the view: the request is a copy of what it
// needs, and what it would log comes back as notes.
#pragma once

#include <string>
#include <vector>

#include "log/log.h"
#include "render_child/job.h"
#include "render_child/pdf/postprocess.h"

namespace enconvert::render_child {

struct FinishRequest {
    std::string path;          // the printed body, rewritten in place
    std::string overlay_path;  // the printed header/footer; empty: none (yet)
    int body_pages = 0;        // with an overlay: the pages it must have
    // Before the page count, unless the overlay is here (then it was done).
    bool drop_sliver = true;
    // Stop after counting the pages when there is more than one: the
    // single_page sheet came out too short and is printed again.
    bool stop_if_pages_spill = false;
    // Stop after counting the pages: the header/footer is printed next.
    bool stop_for_bands = false;
    std::string page_facts_json;  // kPreparePrintScript's result ("" if none)
    std::string title;            // the view's title before the print
    PdfOptions pdf;
    double sheet_height_mm = 0;  // > 0: single_page's sheet
};

struct FinishNote {
    log::Level level;
    std::string what;
    std::string detail;
};

struct FinishResult {
    enum class Next {
        Done,     // the file is the job's output
        Reprint,  // stop_if_pages_spill: `pages` pages came out
        Bands,    // stop_for_bands: `pages` body pages to stamp
        Failed,   // `error` says why
    };
    Next next = Next::Failed;
    int pages = 0;
    std::string error;  // for the user, after "Failed to ..."
    // Failed for want of room where the PDF is written (or, the print
    // engine reporting none, a printed file that ends early)
    bool no_space = false;
    std::vector<FinishNote> notes;
    double postprocess_ms = 0;  // marks placed and the file rewritten
};

FinishResult finish_printed_pdf(const FinishRequest& request);

}  // namespace enconvert::render_child
