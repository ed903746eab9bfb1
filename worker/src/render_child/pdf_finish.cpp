#include "render_child/pdf_finish.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "render_child/link_layout.h"
#include "render_child/pdf/mark_placer.h"
#include "render_child/pdf/trailing_page.h"
#include "storage/file_check.h"

namespace enconvert::render_child {

namespace {

std::string marks_summary(const pdf::PlacedMarks& marks) {
    return std::to_string(marks.links.size()) + " link boxes, " +
           std::to_string(marks.links_not_printed) + " links not printed, " +
           std::to_string(marks.links_estimated) + " image links estimated, " +
           std::to_string(marks.outline.size()) + " headings, " +
           std::to_string(marks.headings_not_printed) + " headings not printed";
}

std::string rewrite_summary(double ms, const pdf::PostProcessStats& stats) {
    return std::to_string(static_cast<long>(ms)) + " ms, " + std::to_string(stats.font_programs) +
           " font programs, " + std::to_string(stats.fonts_subset) + " subset, " +
           std::to_string(stats.duplicate_fonts_dropped) + " duplicates dropped, " +
           std::to_string(stats.type3_fonts_replaced) + " Type 3 fonts replaced, " +
           std::to_string(stats.type3_fonts_kept) + " kept, " + std::to_string(stats.links) +
           " links, " + std::to_string(stats.outline_entries) + " outline entries, " +
           std::to_string(stats.pages_stamped) + " pages stamped";
}

}  // namespace

FinishResult finish_printed_pdf(const FinishRequest& request) {
    FinishResult result;
    // The print engine does not report a write that failed: its file just
    // ends early, which is what a full disk leaves (a web process that died
    // under the print is told apart by the caller). qpdf would read what is
    // there and make a PDF with the rest of the document missing. The same
    // check the worker makes before it stores a file.
    for (const std::string* printed : {&request.path, &request.overlay_path}) {
        if (!printed->empty() && !storage::check_complete(*printed, "pdf").empty()) {
            result.error = "Failed to print page: the printed PDF is incomplete";
            result.no_space = true;
            return result;
        }
    }
    // Counted, and a near-empty last page dropped, before a single-page
    // reprint or the header/footer is decided and before links and
    // bookmarks are placed.
    const pdf::LastPage last =
        pdf::read_last_page(request.path, request.drop_sliver && request.overlay_path.empty());
    int pages = last.pages;
    if (last.sliver) {
        const std::string why = pdf::drop_last_page(request.path);
        result.notes.push_back(
            {log::Level::debug, "near-empty last page", why.empty() ? "dropped" : why});
        if (why.empty()) --pages;
    }
    // WebKit printed at most two sheets past the bound (make_print_setup):
    // more than the bound left once a near-empty last sheet is dropped
    // means the document goes on.
    if (pages > kMaxPrintedPages) {
        result.error = "Failed to print page: the document is longer than " +
                       std::to_string(kMaxPrintedPages) + " pages, the most a PDF is printed with";
        return result;
    }
    if (request.stop_if_pages_spill || request.stop_for_bands) {
        result.pages = pages;
        if (request.stop_if_pages_spill && result.pages > 1) {
            result.next = FinishResult::Next::Reprint;
            return result;
        }
        if (request.stop_for_bands) {
            if (result.pages < 1) {
                result.error = "Failed to print page: the printed PDF cannot be read";
                return result;
            }
            result.next = FinishResult::Next::Bands;
            return result;
        }
    }
    pdf::PostProcessInput input;
    if (!request.overlay_path.empty()) {
        const int pages = pdf::page_count(request.overlay_path);
        if (pages != request.body_pages) {
            result.notes.push_back(
                {log::Level::warning, "header/footer sheets do not match the body",
                 std::to_string(pages) + " vs " + std::to_string(request.body_pages)});
            result.error = "Failed to print page: header/footer could not be laid out";
            return result;
        }
        input.overlay_path = request.overlay_path;
    }
    const auto started = std::chrono::steady_clock::now();
    const PdfOptions& p = request.pdf;
    input.grayscale = p.grayscale;
    const auto facts = nlohmann::json::parse(request.page_facts_json, nullptr, false);
    input.info = document_info(facts, request.title, p);
    // Links and bookmarks are placed where their text was printed: the
    // body's PDF as printed (bands are a separate file until the rewrite).
    const pdf::MarkSources sources = mark_sources(facts, p);
    if (!sources.empty()) {
        std::string why;
        pdf::PlacedMarks marks =
            pdf::place_marks(request.path,
                             page_geometry(p, request.sheet_height_mm > 0 ? request.sheet_height_mm
                                                                          : p.page_height_mm),
                             sources, &why);
        if (!why.empty())
            result.notes.push_back({log::Level::warning, "printed text could not be read", why});
        result.notes.push_back({log::Level::debug, "marks placed", marks_summary(marks)});
        if (marks.search_budget_spent)
            result.notes.push_back({log::Level::warning, "links and headings left out",
                                    "the search for their printed text used its budget"});
        input.links = std::move(marks.links);
        if (p.outline) input.outline = std::move(marks.outline);
    }
    pdf::PostProcessStats stats;
    const WriteError error = pdf::postprocess(request.path, input, &stats);
    result.postprocess_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    result.notes.push_back(
        {log::Level::debug, "post-processed", rewrite_summary(result.postprocess_ms, stats)});
    if (error.failed()) {
        result.error = "Failed to finish PDF: " + error.message;
        result.no_space = error.no_space;
        return result;
    }
    result.next = FinishResult::Next::Done;
    return result;
}

}  // namespace enconvert::render_child
