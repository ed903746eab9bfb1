// Which glyphs the subset keeps: exactly those the content streams show,
// whichever text operator shows them (Tj, TJ, ', "), with the font as q/Q
// leave it, and none from bytes that only look like text (inline images).
#include "render_child/pdf/font_subsetter.h"

#include <gtest/gtest.h>

#include "pdf_fixtures.h"
#include "render_child/pdf/content_streams.h"
#include "render_child/pdf/face_outlines.h"

namespace enconvert::render_child::pdf {
namespace {

using testing::glyph_codes;
using testing::hex;
using testing::kFontPath;

class FontSubsetterTest : public ::testing::Test {
  protected:
    // One page with /F1 (the whole font) and /F2 (not a font we subset),
    // showing `content`; subset_fonts run on it.
    void subset(const std::string& content) {
        font_ = test_support::read_file(kFontPath);
        pdf_.emptyPDF();
        QPDFObjectHandle fonts = QPDFObjectHandle::newDictionary();
        type0_ = testing::type0_font(pdf_, font_, "ABCDEFGHIJ");
        fonts.replaceKey("/F1", type0_);
        fonts.replaceKey("/F2", pdf_.makeIndirectObject(QPDFObjectHandle::parse(
                                    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")));
        testing::add_page(pdf_, fonts, content);
        stats_ = subset_fonts(pdf_);
    }
    // Whether the subset still draws the glyph of `c`.
    bool kept(char c) {
        const std::string program = stream_bytes(type0_.getKey("/DescendantFonts")
                                                     .getArrayItem(0)
                                                     .getKey("/FontDescriptor")
                                                     .getKey("/FontFile2"));
        const std::optional<FaceOutlines> face = FaceOutlines::open(program, 0);
        EXPECT_TRUE(face);
        const std::string code = glyph_codes(font_, std::string(1, c));
        const std::uint32_t glyph =
            (static_cast<unsigned char>(code[0]) << 8) | static_cast<unsigned char>(code[1]);
        return face && !face->contours(glyph).empty();
    }
    std::string codes(const std::string& text) { return "<" + hex(glyph_codes(font_, text)) + ">"; }

    QPDF pdf_;
    std::string font_;
    QPDFObjectHandle type0_;
    FontStats stats_;
};

TEST_F(FontSubsetterTest, KeepsTheGlyphsOfEveryTextOperatorAndNoOthers) {
    font_ = test_support::read_file(kFontPath);
    const std::string content = "BT /F1 12 Tf 72 700 Td " + codes("A") + " Tj\n[" + codes("B") +
                                " -120 " + codes("C") + "] TJ\n" + codes("D") + " '\n1 2 " +
                                codes("E") + " \"\n" +
                                // Another font inside q/Q; after Q, /F1 again.
                                "q /F2 10 Tf " + codes("F") + " Tj Q " + codes("G") + " Tj\n" +
                                // An inline image whose data reads like text.
                                "ET BI /W 4 /H 1 /BPC 8 /CS /G ID " + codes("H") + " Tj EI\n" +
                                // Operators with the wrong operands show nothing.
                                "BT /F1 12 Tf 5 " + codes("I") + " TJ ET";
    subset(content);
    EXPECT_EQ(stats_.subset, 1);
    for (char c : std::string("ABCDEG")) EXPECT_TRUE(kept(c)) << c;
    for (char c : std::string("FHIJ")) EXPECT_FALSE(kept(c)) << c;
}

TEST_F(FontSubsetterTest, ADamagedContentStreamIsReadAroundItsBadTokens) {
    // A stray delimiter, a bad hex string, an unclosed array: the scanner
    // reads on past each bad token, as qpdf's parser did, and keeps the
    // glyphs shown around them.
    font_ = test_support::read_file(kFontPath);
    const std::string content = "BT /F1 12 Tf " + codes("A") + " Tj ) <zz> Tj >> " + codes("B") +
                                " Tj [" + codes("C") + " ET";
    EXPECT_NO_THROW(subset(content));
    EXPECT_EQ(stats_.subset, 1);
    EXPECT_TRUE(kept('A'));
    EXPECT_TRUE(kept('B'));
}

}  // namespace
}  // namespace enconvert::render_child::pdf
