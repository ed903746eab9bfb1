// The GTK print settings of one PDF (no display needed: plain GObjects).
#include "render_child/print_setup.h"

#include <gtest/gtest.h>

namespace enconvert::render_child {
namespace {

// A hostile page of tens of thousands of page breaks: only the sheets up to
// two past the bound are printed (finish_printed_pdf fails a print that
// has more than the bound once a near-empty last sheet is dropped).
TEST(PrintSetup, PrintsTwoSheetsPastThePageBoundAtMost) {
    const PrintSetup setup =
        make_print_setup(PdfOptions{}, 0, "Print to File", "file:///tmp/x.pdf");
    EXPECT_EQ(gtk_print_settings_get_print_pages(setup.settings.get()), GTK_PRINT_PAGES_RANGES);
    gint n = 0;
    GtkPageRange* ranges = gtk_print_settings_get_page_ranges(setup.settings.get(), &n);
    ASSERT_EQ(n, 1);
    EXPECT_EQ(ranges[0].start, 0);
    EXPECT_EQ(ranges[0].end, kMaxPrintedPages + 1);  // inclusive, from 0
    g_free(ranges);
}

TEST(PrintSetup, TheSheetIsThePaperAsGivenInPortrait) {
    PdfOptions pdf;
    pdf.page_width_mm = 300;
    pdf.page_height_mm = 100;
    const PrintSetup setup = make_print_setup(pdf, 0, "Print to File", "file:///tmp/x.pdf");
    GtkPaperSize* paper = gtk_page_setup_get_paper_size(setup.page.get());
    EXPECT_DOUBLE_EQ(gtk_paper_size_get_width(paper, GTK_UNIT_MM), 300);
    EXPECT_DOUBLE_EQ(gtk_paper_size_get_height(paper, GTK_UNIT_MM), 100);
    EXPECT_EQ(gtk_page_setup_get_orientation(setup.page.get()), GTK_PAGE_ORIENTATION_PORTRAIT);
    const PrintSetup tall = make_print_setup(pdf, 2000, "Print to File", "file:///tmp/x.pdf");
    EXPECT_DOUBLE_EQ(
        gtk_paper_size_get_height(gtk_page_setup_get_paper_size(tall.page.get()), GTK_UNIT_MM),
        2000);
}

}  // namespace
}  // namespace enconvert::render_child
