// The PDF post-processing library on PDFs made at test time, measured with
// poppler's tools and qpdf: sizes, extracted text, annotations, metadata,
// colours, stamped pages.
#include "render_child/pdf/postprocess.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <qpdf/QPDFPageDocumentHelper.hh>
#include <qpdf/QPDFPageObjectHelper.hh>
#include <regex>

#include "pdf_fixtures.h"
#include "render_child/pdf/font_subsetter.h"

namespace enconvert::render_child::pdf {
namespace {

namespace fs = std::filesystem;
using namespace testing;

class PdfPostprocessTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("enconvert-pdf-test-" + std::to_string(getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    std::string path(const std::string& name) const { return (dir_ / name).string(); }

    fs::path dir_;
};

// Rows of dark and coloured pixels of page 1 rasterised at 20 dpi.
struct Pixels {
    int coloured = 0;
    int non_white = 0;
};
Pixels count_pixels(const std::string& pdf) {
    const std::string ppm = test_support::run_command("pdftoppm -r 20 -f 1 -l 1 '" + pdf + "'");
    std::istringstream in(ppm);
    std::string magic;
    int width = 0, height = 0, maxval = 0;
    in >> magic >> width >> height >> maxval;
    in.get();
    const std::string rgb = ppm.substr(static_cast<std::size_t>(in.tellg()));
    Pixels p;
    for (std::size_t i = 0; i + 2 < rgb.size(); i += 3) {
        const int r = static_cast<unsigned char>(rgb[i]),
                  g = static_cast<unsigned char>(rgb[i + 1]),
                  b = static_cast<unsigned char>(rgb[i + 2]);
        if (std::max({r, g, b}) - std::min({r, g, b}) > 24) ++p.coloured;
        if (std::min({r, g, b}) < 240) ++p.non_white;
    }
    return p;
}

TEST_F(PdfPostprocessTest, SubsettingShrinksDeduplicatesAndKeepsTextExtractable) {
    const std::string file = path("text.pdf");
    write_text_pdf(file, "Hello subset", "Second copy");
    const auto before = fs::file_size(file);
    ASSERT_GT(before, 150'000u);  // two whole copies of a 400 KB font, compressed

    {
        QPDF doc;
        doc.processFile(file.c_str());
        const FontStats stats = subset_fonts(doc);
        EXPECT_EQ(stats.programs, 1);
        EXPECT_EQ(stats.duplicates, 1);
        EXPECT_EQ(stats.subset, 1);
    }
    ASSERT_EQ(postprocess(file, {}).message, "");
    const auto after = fs::file_size(file);
    EXPECT_LT(after, 20'000u) << "from " << before;
    const std::string text = test_support::run_command("pdftotext '" + file + "' -");
    EXPECT_NE(text.find("Hello subset"), std::string::npos) << text;
    EXPECT_NE(text.find("Second copy"), std::string::npos) << text;
    // The subset still draws the glyphs: poppler renders ink, no errors.
    EXPECT_GT(count_pixels(file).non_white, 20);
    EXPECT_EQ(test_support::run_command("pdffonts '" + file + "' 2>&1 | grep -c 'Syntax Error'"),
              "0\n");
}

TEST_F(PdfPostprocessTest, LinksBecomeUriAnnotationsWithTheirRectangles) {
    const std::string file = path("links.pdf");
    write_cairo_pdf(file, 2, [](cairo_t* cr, int page) {
        draw_text(cr, 72, 100, "Page " + std::to_string(page + 1));
    });
    PostProcessInput input;
    const auto uri = [](const char* text) { return std::make_shared<const std::string>(text); };
    input.links = {{0, 72, 700, 200, 720, uri("https://example.com/a")},
                   {1, 10, 20, 30, 40, uri("mailto:x@example.com")},
                   {5, 0, 0, 10, 10, uri("https://example.com/no-such-page")}};
    ASSERT_EQ(postprocess(file, input).message, "");

    QPDF doc;
    doc.processFile(file.c_str());
    std::vector<QPDFPageObjectHelper> pages = QPDFPageDocumentHelper(doc).getAllPages();
    ASSERT_EQ(pages.size(), 2u);
    auto links_of = [](QPDFPageObjectHelper& page) {
        std::vector<std::pair<std::string, QPDFObjectHandle::Rectangle>> out;
        for (auto& annot : page.getAnnotations("/Link"))
            out.emplace_back(annot.getObjectHandle().getKey("/A").getKey("/URI").getUTF8Value(),
                             annot.getRect());
        return out;
    };
    auto first = links_of(pages[0]);
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first[0].first, "https://example.com/a");
    EXPECT_DOUBLE_EQ(first[0].second.llx, 72);
    EXPECT_DOUBLE_EQ(first[0].second.lly, 700);
    EXPECT_DOUBLE_EQ(first[0].second.urx, 200);
    EXPECT_DOUBLE_EQ(first[0].second.ury, 720);
    auto second = links_of(pages[1]);
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(second[0].first, "mailto:x@example.com");
    EXPECT_DOUBLE_EQ(second[0].second.urx, 30);
}

TEST_F(PdfPostprocessTest, TitleAndProducerAreWritten) {
    const std::string file = path("title.pdf");
    write_cairo_pdf(file, 1, [](cairo_t* cr, int) { draw_text(cr, 72, 100, "Titled"); });
    PostProcessInput input;
    input.info.title = "Résumé — 履歴書";
    ASSERT_EQ(postprocess(file, input).message, "");
    const std::string info = test_support::run_command("pdfinfo '" + file + "'");
    EXPECT_TRUE(std::regex_search(info, std::regex("Title: +Résumé — 履歴書\n"))) << info;
    EXPECT_TRUE(std::regex_search(info, std::regex("Producer: +enconvert \\(WebKitGTK\\)\n")))
        << info;
}

TEST_F(PdfPostprocessTest, GrayscaleRemovesColourKeepsTextAndWhitePaper) {
    const std::string file = path("colour.pdf");
    write_cairo_pdf(file, 1, [](cairo_t* cr, int) {
        cairo_set_source_rgb(cr, 0.9, 0.1, 0.1);
        cairo_rectangle(cr, 100, 100, 300, 200);
        cairo_fill(cr);
        draw_text(cr, 72, 500, "Still text");
    });
    const Pixels colour = count_pixels(file);
    ASSERT_GT(colour.coloured, 500);
    PostProcessInput input;
    input.grayscale = true;
    ASSERT_EQ(postprocess(file, input).message, "");
    const Pixels gray = count_pixels(file);
    EXPECT_EQ(gray.coloured, 0);
    // The red area is now grey, the rest of the sheet stays white.
    EXPECT_NEAR(gray.non_white, colour.non_white, colour.non_white / 20);
    EXPECT_NE(test_support::run_command("pdftotext '" + file + "' -").find("Still text"),
              std::string::npos);
}

TEST_F(PdfPostprocessTest, OverlayStampsPageIOntoPageIWithoutHidingTheBody) {
    const std::string body = path("body.pdf"), stamp = path("stamp.pdf");
    write_cairo_pdf(body, 3, [](cairo_t* cr, int page) {
        draw_text(cr, 72, 300, "Body" + std::to_string(page + 1));
    });
    write_cairo_pdf(stamp, 2, [](cairo_t* cr, int page) {
        draw_text(cr, 72, 820, "Stamp" + std::to_string(page + 1));
    });
    PostProcessInput input;
    input.overlay_path = stamp;
    ASSERT_EQ(postprocess(body, input).message, "");
    for (int k = 1; k <= 3; ++k) {
        const std::string n = std::to_string(k);
        const std::string bbox =
            test_support::run_command("pdftotext -f " + n + " -l " + n + " -bbox '" + body + "' -");
        EXPECT_NE(bbox.find(">Body" + n + "<"), std::string::npos) << bbox;
        std::smatch m;
        const bool stamped =
            std::regex_search(bbox, m, std::regex(R"re(yMin="([\d.]+)"[^>]*>Stamp)re" + n + "<"));
        // The overlay has two pages: the third body page stays unstamped.
        EXPECT_EQ(stamped, k <= 2) << bbox;
        if (stamped) {
            EXPECT_NEAR(std::stod(m[1]), 820 - 14, 4);  // where it was drawn
        }
    }
}

TEST_F(PdfPostprocessTest, UnreadableInputReportsAndLeavesFileAlone) {
    const std::string file = path("broken.pdf");
    {
        std::ofstream out(file);
        out << "not a pdf";
    }
    EXPECT_NE(postprocess(file, {}).message, "");
    EXPECT_EQ(test_support::read_file(file), "not a pdf");
    EXPECT_EQ(page_count(file), 0);
    EXPECT_FALSE(fs::exists(file + ".post"));
}

}  // namespace
}  // namespace enconvert::render_child::pdf
