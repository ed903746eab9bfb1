// What the work thread does to a printed PDF, on PDFs drawn with cairo at
// test time: each way on (reprint, bands, done) and each way out (failed).
#include "render_child/pdf_finish.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <vector>

#include "pdf/pdf_fixtures.h"

namespace enconvert::render_child {
namespace {

namespace fs = std::filesystem;
using pdf::testing::draw_text;
using pdf::testing::write_cairo_pdf;

using Draw = std::function<void(cairo_t*)>;

const Draw kText = [](cairo_t* cr) { draw_text(cr, 72, 100, "Body text of the document"); };
// The bottom border of a block that ended just past the previous page.
const Draw kSliver = [](cairo_t* cr) {
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_rectangle(cr, 28, 28, 540, 3);
    cairo_fill(cr);
};

class PdfFinishTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("enconvert-finish-test-" + std::to_string(getpid()));
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string print(const std::string& name, const std::vector<Draw>& pages) {
        const std::string path = (dir_ / name).string();
        write_cairo_pdf(path, static_cast<int>(pages.size()),
                        [&](cairo_t* cr, int i) { pages[i](cr); });
        return path;
    }

    FinishRequest request_for(const std::string& path) {
        FinishRequest request;
        request.path = path;
        return request;
    }

    static bool has_note(const FinishResult& result, const std::string& what,
                         const std::string& detail_part = {}) {
        return std::any_of(result.notes.begin(), result.notes.end(), [&](const FinishNote& n) {
            return n.what == what && n.detail.find(detail_part) != std::string::npos;
        });
    }

    fs::path dir_;
};

TEST_F(PdfFinishTest, ANearEmptyLastPageIsDroppedBeforeThePagesAreCounted) {
    FinishRequest request = request_for(print("body.pdf", {kText, kText, kSliver}));
    request.stop_for_bands = true;
    const FinishResult result = finish_printed_pdf(request);
    EXPECT_EQ(result.next, FinishResult::Next::Bands);
    EXPECT_EQ(result.pages, 2);
    EXPECT_EQ(pdf::page_count(request.path), 2);
    EXPECT_TRUE(has_note(result, "near-empty last page", "dropped"));
}

// WebKit prints two sheets past the bound (make_print_setup): a print with
// more than the bound once a near-empty last sheet is dropped is a longer
// document, and fails; one at the bound is finished, a sliver after it
// dropped.
TEST_F(PdfFinishTest, APrintPastThePageBoundFails) {
    std::vector<Draw> at_bound(kMaxPrintedPages, kText);
    at_bound.push_back(kSliver);
    FinishRequest at = request_for(print("at.pdf", at_bound));
    at.drop_sliver = true;
    const FinishResult done = finish_printed_pdf(at);
    EXPECT_EQ(done.next, FinishResult::Next::Done) << done.error;
    EXPECT_EQ(pdf::page_count(at.path), kMaxPrintedPages);

    const std::vector<Draw> past(kMaxPrintedPages + 1, kText);
    const FinishResult result = finish_printed_pdf(request_for(print("past.pdf", past)));
    EXPECT_EQ(result.next, FinishResult::Next::Failed);
    EXPECT_EQ(result.error, "Failed to print page: the document is longer than " +
                                std::to_string(kMaxPrintedPages) +
                                " pages, the most a PDF is printed with");
    EXPECT_FALSE(result.no_space);
}

TEST_F(PdfFinishTest, ASinglePageSheetThatSpilledIsPrintedAgainUntouched) {
    FinishRequest request = request_for(print("body.pdf", {kText, kText}));
    request.stop_if_pages_spill = true;
    request.stop_for_bands = true;  // the reprint comes first
    const auto before = fs::file_size(request.path);
    const FinishResult result = finish_printed_pdf(request);
    EXPECT_EQ(result.next, FinishResult::Next::Reprint);
    EXPECT_EQ(result.pages, 2);
    EXPECT_EQ(fs::file_size(request.path), before);
}

TEST_F(PdfFinishTest, ASinglePageSheetThatFitsIsRewritten) {
    FinishRequest request = request_for(print("body.pdf", {kText}));
    request.stop_if_pages_spill = true;
    const FinishResult result = finish_printed_pdf(request);
    EXPECT_EQ(result.next, FinishResult::Next::Done) << result.error;
    EXPECT_EQ(result.error, "");
    EXPECT_TRUE(has_note(result, "post-processed", "font programs"));
    EXPECT_EQ(pdf::page_count(request.path), 1);
}

TEST_F(PdfFinishTest, MatchingHeaderAndFooterSheetsAreStamped) {
    FinishRequest request = request_for(print("body.pdf", {kText, kText}));
    request.overlay_path = print("bands.pdf", {kText, kText});
    request.body_pages = 2;
    const FinishResult result = finish_printed_pdf(request);
    EXPECT_EQ(result.next, FinishResult::Next::Done) << result.error;
    EXPECT_TRUE(has_note(result, "post-processed", "2 pages stamped"));
}

TEST_F(PdfFinishTest, HeaderAndFooterSheetsThatDoNotMatchTheBodyFailTheJob) {
    FinishRequest request = request_for(print("body.pdf", {kText, kText}));
    request.overlay_path = print("bands.pdf", {kText});
    request.body_pages = 2;
    const FinishResult result = finish_printed_pdf(request);
    EXPECT_EQ(result.next, FinishResult::Next::Failed);
    EXPECT_EQ(result.error, "Failed to print page: header/footer could not be laid out");
    EXPECT_TRUE(has_note(result, "header/footer sheets do not match the body", "1 vs 2"));
}

// Complete as far as its ends go (a PDF header, "%%EOF"), unreadable all
// the same.
constexpr const char* kUnreadable = "%PDF-1.5\nno objects here\n%%EOF\n";

TEST_F(PdfFinishTest, AnUnreadablePrintFailsWhereItsPagesAreCounted) {
    const std::string path = (dir_ / "body.pdf").string();
    std::ofstream(path) << kUnreadable;
    FinishRequest request = request_for(path);
    request.stop_for_bands = true;
    const FinishResult result = finish_printed_pdf(request);
    EXPECT_EQ(result.next, FinishResult::Next::Failed);
    EXPECT_EQ(result.error, "Failed to print page: the printed PDF cannot be read");
}

TEST_F(PdfFinishTest, AnUnreadablePrintFailsTheRewriteAndIsLeftAsItWas) {
    const std::string path = (dir_ / "body.pdf").string();
    std::ofstream(path) << kUnreadable;
    const FinishResult result = finish_printed_pdf(request_for(path));
    EXPECT_EQ(result.next, FinishResult::Next::Failed);
    EXPECT_EQ(result.error.rfind("Failed to finish PDF: ", 0), 0u) << result.error;
    EXPECT_GT(result.error.size(), std::string("Failed to finish PDF: ").size());
    EXPECT_FALSE(result.no_space);
    EXPECT_EQ(fs::file_size(path), std::string(kUnreadable).size());
}

// The print engine does not report a write that failed for want of room:
// its file just ends early. qpdf reads such a file (it rebuilds what it
// can) and the rewrite made a valid PDF with part of the document missing,
// reported as a success.
TEST_F(PdfFinishTest, APrintCutShortFailsAndIsNotRewritten) {
    for (const bool as_bands : {false, true}) {
        const std::string body = print("body.pdf", {kText, kText, kText});
        const std::string bands = print("bands.pdf", {kText, kText, kText});
        const std::string& cut = as_bands ? bands : body;
        const auto size = fs::file_size(cut);
        fs::resize_file(cut, size * 2 / 3);
        FinishRequest request = request_for(body);
        if (as_bands) {
            request.overlay_path = bands;
            request.body_pages = 3;
        }
        const FinishResult result = finish_printed_pdf(request);
        EXPECT_EQ(result.next, FinishResult::Next::Failed) << as_bands;
        EXPECT_EQ(result.error, "Failed to print page: the printed PDF is incomplete") << as_bands;
        EXPECT_TRUE(result.no_space) << as_bands;  // made again once there is room
        EXPECT_EQ(fs::file_size(cut), size * 2 / 3) << as_bands;
    }
}

}  // namespace
}  // namespace enconvert::render_child
