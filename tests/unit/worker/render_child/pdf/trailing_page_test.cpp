#include "render_child/pdf/trailing_page.h"

#include <cairo-pdf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <functional>
#include <string>

namespace enconvert::render_child::pdf {
namespace {

constexpr double kA4W = 595.28, kA4H = 841.89;

// A PDF of A4 pages, each drawn by one of `pages`.
class PdfFile {
  public:
    explicit PdfFile(const std::vector<std::function<void(cairo_t*)>>& pages) {
        char name[] = "/tmp/enc-trailing-XXXXXX";
        const int fd = mkstemp(name);
        close(fd);
        path_ = name;
        cairo_surface_t* surface = cairo_pdf_surface_create(path_.c_str(), kA4W, kA4H);
        cairo_t* cr = cairo_create(surface);
        for (const auto& draw : pages) {
            draw(cr);
            cairo_show_page(cr);
        }
        cairo_destroy(cr);
        cairo_surface_destroy(surface);
    }
    ~PdfFile() { unlink(path_.c_str()); }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

void body_text(cairo_t* cr) {
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_select_font_face(cr, "Liberation Sans", CAIRO_FONT_SLANT_NORMAL,
                           CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 12);
    cairo_move_to(cr, 72, 100);
    cairo_show_text(cr, "Body text of the document");
}

// The bottom border of a block that ended just past the previous page.
void border_sliver(cairo_t* cr) {
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_rectangle(cr, 28, 28, 540, 3);
    cairo_fill(cr);
}

void big_picture(cairo_t* cr) {
    cairo_set_source_rgb(cr, 0.1, 0.4, 0.8);
    cairo_rectangle(cr, 28, 28, 300, 200);
    cairo_fill(cr);
}

void nothing(cairo_t*) {}

TEST(TrailingPageTest, ABorderSliverOrAnEmptyLastPageIsASliver) {
    EXPECT_TRUE(last_page_is_sliver(PdfFile({body_text, border_sliver}).path()));
    EXPECT_TRUE(last_page_is_sliver(PdfFile({body_text, body_text, nothing}).path()));
}

TEST(TrailingPageTest, TextOrRealInkOnTheLastPageIsKept) {
    EXPECT_FALSE(last_page_is_sliver(PdfFile({body_text, body_text}).path()));
    EXPECT_FALSE(last_page_is_sliver(PdfFile({body_text, big_picture}).path()));
    // Two slivers far apart span more than a sliver.
    EXPECT_FALSE(last_page_is_sliver(PdfFile({body_text,
                                              [](cairo_t* cr) {
                                                  border_sliver(cr);
                                                  cairo_rectangle(cr, 28, 400, 540, 3);
                                                  cairo_fill(cr);
                                              }})
                                         .path()));
}

TEST(TrailingPageTest, OnePageOrNoPdfIsNeverDropped) {
    EXPECT_FALSE(last_page_is_sliver(PdfFile({nothing}).path()));
    EXPECT_FALSE(last_page_is_sliver("/nonexistent/file.pdf"));
}

// The count comes from the same opening of the file as the sliver check.
TEST(TrailingPageTest, TheLastPageIsReadWithThePageCount) {
    PdfFile file({body_text, body_text, nothing});
    const LastPage both = read_last_page(file.path());
    EXPECT_EQ(both.pages, 3);
    EXPECT_TRUE(both.sliver);
    const LastPage count = read_last_page(file.path(), false);
    EXPECT_EQ(count.pages, 3);
    EXPECT_FALSE(count.sliver);
    EXPECT_EQ(read_last_page(PdfFile({body_text}).path()).pages, 1);
    const LastPage none = read_last_page("/nonexistent/file.pdf");
    EXPECT_EQ(none.pages, 0);
    EXPECT_FALSE(none.sliver);
}

TEST(TrailingPageTest, DroppingTheLastPageKeepsTheOthers) {
    PdfFile file({body_text, body_text, border_sliver});
    EXPECT_EQ(drop_last_page(file.path()), "");
    EXPECT_FALSE(last_page_is_sliver(file.path()));  // two text pages left
    EXPECT_EQ(drop_last_page(file.path()), "");
    EXPECT_NE(drop_last_page(file.path()), "");  // one page: refused, unchanged
    EXPECT_NE(drop_last_page("/nonexistent/file.pdf"), "");
}

}  // namespace
}  // namespace enconvert::render_child::pdf
