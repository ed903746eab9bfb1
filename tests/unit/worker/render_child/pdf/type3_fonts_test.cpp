// Type 3 fonts drawn from system faces, made at test time like the engine
// makes them, turned back into real fonts: checked with poppler's tools for
// the font type, the extracted text and the page's pixels, which must not
// move (same glyphs, same slant, same places).
#include "render_child/pdf/type3_fonts.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <ostream>
#include <qpdf/QPDFPageDocumentHelper.hh>
#include <qpdf/QPDFWriter.hh>
#include <sstream>
#include <string>
#include <vector>

#include "../../../support/process_io.h"
#include "render_child/pdf/postprocess.h"
#include "type3_fixture.h"

namespace enconvert::render_child::pdf {
namespace {

namespace fs = std::filesystem;
using namespace testing;
using test_support::run_command;

class Type3FontsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("enconvert-type3-test-" + std::to_string(getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    std::string path(const std::string& name) const { return (dir_ / name).string(); }

    fs::path dir_;
};

std::string fonts_of(const std::string& pdf) {
    return run_command("pdffonts '" + pdf + "' 2>&1");
}

// The page's text without the trailing line breaks and form feed.
std::string text_of(const std::string& pdf) {
    std::string text = run_command("pdftotext -q '" + pdf + "' -");
    text.erase(text.find_last_not_of("\n\f ") + 1);
    return text;
}

// replace_type3_fonts() on `in`, written to `out`.
Type3Stats replace(const std::string& in, const std::string& out) {
    QPDF doc;
    doc.setSuppressWarnings(true);  // as postprocess() reads it
    doc.processFile(in.c_str());
    const Type3Stats stats = replace_type3_fonts(doc);
    QPDFWriter writer(doc, out.c_str());
    writer.write();
    return stats;
}

// The whole post-processing on a copy of `in`.
PostProcessStats postprocess_copy(const std::string& in, const std::string& out) {
    fs::copy_file(in, out, fs::copy_options::overwrite_existing);
    PostProcessStats stats;
    EXPECT_EQ(postprocess(out, {}, &stats).message, "");
    return stats;
}

struct Raster {
    int width = 0, height = 0;
    std::string pixels;  // 8-bit grey, row by row
};

// At 300 dpi: poppler draws a Type 3 glyph on whole device pixels (moving
// this fixture's text by 0.2 pt leaves its 100 dpi raster identical), so at
// 100 dpi a correct replacement differs from the original by up to half a
// pixel per glyph, more than a slant 15 % off does; at 300 dpi the two are
// well apart.
Raster rasterise(const std::string& pdf) {
    const std::string pgm = run_command("pdftoppm -r 300 -gray -f 1 -l 1 '" + pdf + "'");
    std::istringstream in(pgm);
    std::string magic;
    Raster r;
    int maxval = 0;
    in >> magic >> r.width >> r.height >> maxval;
    in.get();
    if (magic != "P5" || maxval != 255 || !in) return {};
    r.pixels = pgm.substr(static_cast<std::size_t>(in.tellg()));
    if (r.pixels.size() != static_cast<std::size_t>(r.width) * r.height) return {};
    return r;
}

// How far two rasters of the same page are apart, measured where there is
// ink in either (the columns from the first to the last inked one, the
// rows with ink, both padded by 2 px), so a few lines of text on an empty
// sheet still count.
struct RasterDiff {
    long area = 0;         // pixels measured
    double mean = 0;       // mean |a - b|, of 255
    double far_share = 0;  // share of them differing by more than 64
    // Correct replacements measured a mean of 0.9 to 1.5 and 0.06 to
    // 0.09 % far off; one glyph swapped (i for j) 2.3 and 0.63 %, a slant
    // 0.03 off 5.7 and 3.3 %, the line 0.25 pt to the right 7.4 and 4.3 %.
    bool close() const { return area > 0 && mean < 2.5 && far_share <= 0.003; }
};

std::ostream& operator<<(std::ostream& out, const RasterDiff& d) {
    return out << "area " << d.area << " px, mean " << d.mean << ", over 64: " << d.far_share * 100
               << " %";
}

RasterDiff compare(const Raster& a, const Raster& b) {
    RasterDiff d;
    if (a.pixels.empty() || a.width != b.width || a.height != b.height) return d;
    auto at = [](const Raster& r, int x, int y) {
        return static_cast<int>(static_cast<unsigned char>(r.pixels[y * r.width + x]));
    };
    constexpr int kPad = 2;
    int x0 = a.width, x1 = -1;
    std::vector<bool> inked_row(a.height, false);
    for (int y = 0; y < a.height; ++y)
        for (int x = 0; x < a.width; ++x)
            if (at(a, x, y) < 250 || at(b, x, y) < 250) {
                x0 = std::min(x0, x), x1 = std::max(x1, x);
                for (int r = std::max(0, y - kPad); r <= std::min(a.height - 1, y + kPad); ++r)
                    inked_row[r] = true;
            }
    if (x1 < 0) return d;
    long sum = 0, far = 0;
    for (int y = 0; y < a.height; ++y) {
        if (!inked_row[y]) continue;
        for (int x = std::max(0, x0 - kPad); x <= std::min(a.width - 1, x1 + kPad); ++x) {
            const int delta = std::abs(at(a, x, y) - at(b, x, y));
            sum += delta;
            far += delta > 64;
            ++d.area;
        }
    }
    d.mean = static_cast<double>(sum) / d.area;
    d.far_share = static_cast<double>(far) / d.area;
    return d;
}

// The fixture itself is what the engine writes: a Type 3 font whose text
// extracts as written and which draws ink.
void expect_engine_like(const std::string& pdf, const std::string& text) {
    EXPECT_NE(fonts_of(pdf).find("Type 3"), std::string::npos) << fonts_of(pdf);
    EXPECT_EQ(text_of(pdf), text);
    const Raster raster = rasterise(pdf);
    ASSERT_FALSE(raster.pixels.empty()) << pdf;
    EXPECT_GT(compare(raster, raster).area, 0);  // some ink
}

// `after` has a real font of `font_type` instead of the Type 3 font and
// shows the same text at the same pixels as `before`.
void expect_replaced(const std::string& before, const std::string& after,
                     const std::string& font_type) {
    const std::string fonts = fonts_of(after);
    EXPECT_EQ(fonts.find("Type 3"), std::string::npos) << fonts;
    EXPECT_NE(fonts.find(font_type), std::string::npos) << fonts;
    EXPECT_EQ(fonts.find("Error"), std::string::npos) << fonts;
    EXPECT_EQ(text_of(after), text_of(before));
    const RasterDiff diff = compare(rasterise(before), rasterise(after));
    EXPECT_TRUE(diff.close()) << diff;
}

// `after` still has its Type 3 font and draws exactly what `before` drew.
void expect_kept(const std::string& before, const std::string& after) {
    EXPECT_NE(fonts_of(after).find("Type 3"), std::string::npos) << fonts_of(after);
    EXPECT_EQ(text_of(after), text_of(before));
    const RasterDiff diff = compare(rasterise(before), rasterise(after));
    EXPECT_GT(diff.area, 0);
    EXPECT_EQ(diff.mean, 0) << diff;
}

// Writes `spec` to `engine` as the engine would (checked: it shows
// `shown`), runs the replacement on it into `after`; its stats.
Type3Stats engine_then_replace(const Type3Spec& spec, const std::string& shown,
                               const std::string& engine, const std::string& after) {
    write_type3_pdf(engine, spec);
    expect_engine_like(engine, shown);
    return replace(engine, after);
}

TEST_F(Type3FontsTest, SlantedTrueTypeBecomesCidTrueTypeWithItsSlant) {
    Type3Spec spec;
    spec.font_path = kNotoSansMono;
    spec.postscript_name = "NotoSansMono-Regular";
    spec.slant = 0.2;
    spec.text = "mono italic synthesized text";
    const std::string engine = path("engine.pdf");
    write_type3_pdf(engine, spec);
    expect_engine_like(engine, spec.text);
    // The pixel comparison sees the slant: the upright face is not close.
    const std::string upright = path("upright.pdf");
    spec.slant = 0;
    write_type3_pdf(upright, spec);
    ASSERT_FALSE(compare(rasterise(engine), rasterise(upright)).close());

    const Type3Stats stats = replace(engine, path("replaced.pdf"));
    EXPECT_EQ(stats.replaced, 1);
    EXPECT_EQ(stats.kept, 0);
    expect_replaced(engine, path("replaced.pdf"), "CID TrueType");

    const PostProcessStats post = postprocess_copy(engine, path("post.pdf"));
    EXPECT_EQ(post.type3_fonts_replaced, 1);
    EXPECT_EQ(post.type3_fonts_kept, 0);
    expect_replaced(engine, path("post.pdf"), "CID TrueType");
}

TEST_F(Type3FontsTest, UprightCffBecomesCidType0) {
    Type3Spec spec;
    spec.font_path = kNimbusSans;
    spec.postscript_name = "NimbusSans-Regular";
    spec.text = "Nimbus Sans upright CFF text";
    const std::string engine = path("engine.pdf");
    const Type3Stats stats = engine_then_replace(spec, spec.text, engine, path("replaced.pdf"));
    EXPECT_EQ(stats.replaced, 1);
    EXPECT_EQ(stats.kept, 0);
    // poppler calls a CIDFontType0 "CID Type 0", "CID Type 0C" or
    // "CID Type 0C (OT)" depending on how the program is embedded.
    std::printf("pdffonts after replacing:\n%s", fonts_of(path("replaced.pdf")).c_str());
    expect_replaced(engine, path("replaced.pdf"), "CID Type 0");

    const PostProcessStats post = postprocess_copy(engine, path("post.pdf"));
    EXPECT_EQ(post.type3_fonts_replaced, 1);
    EXPECT_EQ(post.type3_fonts_kept, 0);
    expect_replaced(engine, path("post.pdf"), "CID Type 0");
}

TEST_F(Type3FontsTest, OutlinesOfAnotherFaceKeepTheType3Font) {
    // Codes, names and widths of Noto Sans Mono, outlines of Liberation
    // Sans: a face of that name exists, but these are not its glyphs.
    Type3Spec spec;
    spec.font_path = kNotoSansMono;
    spec.postscript_name = "NotoSansMono-Regular";
    spec.outline_path = kLiberationSans;
    spec.text = "not the named face";
    const std::string engine = path("engine.pdf");
    const Type3Stats stats = engine_then_replace(spec, spec.text, engine, path("kept.pdf"));
    EXPECT_EQ(stats.replaced, 0);
    EXPECT_EQ(stats.kept, 1);
    expect_kept(engine, path("kept.pdf"));
}

TEST_F(Type3FontsTest, FaceNotInstalledKeepsTheType3Font) {
    Type3Spec spec;
    spec.font_path = kNotoSansMono;
    spec.postscript_name = "NoSuchFont-Regular";
    spec.family = "No Such Font";
    spec.text = "a web font";
    const std::string engine = path("engine.pdf");
    const Type3Stats stats = engine_then_replace(spec, spec.text, engine, path("kept.pdf"));
    EXPECT_EQ(stats.replaced, 0);
    EXPECT_EQ(stats.kept, 1);
    expect_kept(engine, path("kept.pdf"));
}

TEST_F(Type3FontsTest, ImageGlyphKeepsTheType3Font) {
    Type3Spec spec;
    spec.font_path = kNotoSansMono;
    spec.postscript_name = "NotoSansMono-Regular";
    spec.text = "emoji ";
    spec.image_glyph = true;
    const std::string engine = path("engine.pdf");
    const Type3Stats stats =
        engine_then_replace(spec, spec.text + "\u2605", engine, path("kept.pdf"));
    EXPECT_EQ(stats.replaced, 0);
    EXPECT_EQ(stats.kept, 1);
    expect_kept(engine, path("kept.pdf"));
}

TEST_F(Type3FontsTest, FontInFormXObjectAndPageIsRewrittenInBoth) {
    Type3Spec spec;
    spec.font_path = kNotoSansMono;
    spec.postscript_name = "NotoSansMono-Regular";
    spec.slant = 0.2;
    spec.text = "text on the page";
    spec.form_text = "text in the form";
    const std::string engine = path("engine.pdf");
    const Type3Stats stats = engine_then_replace(spec, spec.text + "\n\n" + spec.form_text, engine,
                                                 path("replaced.pdf"));
    EXPECT_EQ(stats.replaced, 1);
    EXPECT_EQ(stats.kept, 0);
    expect_replaced(engine, path("replaced.pdf"), "CID TrueType");
}

TEST_F(Type3FontsTest, FormWithoutResourcesOfItsOwnIsRewrittenWithThePagesFonts) {
    Type3Spec spec;
    spec.font_path = kNotoSansMono;
    spec.postscript_name = "NotoSansMono-Regular";
    spec.slant = 0.2;
    spec.text = "text on the page";
    spec.form_text = "text in the form";
    spec.form_uses_page_resources = true;
    const std::string engine = path("engine.pdf");
    const Type3Stats stats = engine_then_replace(spec, spec.text + "\n\n" + spec.form_text, engine,
                                                 path("replaced.pdf"));
    EXPECT_EQ(stats.replaced, 1);
    expect_replaced(engine, path("replaced.pdf"), "CID TrueType");
}

TEST_F(Type3FontsTest, SlantedTextPlacedWithoutTmKeepsItsSlant) {
    // The slant moves into the text matrix: also when the text object
    // never sets one and a cm places it. Replacing or keeping the font are
    // both right; drawing the glyphs upright is not.
    Type3Spec spec;
    spec.font_path = kNotoSansMono;
    spec.postscript_name = "NotoSansMono-Regular";
    spec.slant = 0.2;
    spec.text = "no text matrix";
    spec.place_with_cm = true;
    const std::string engine = path("engine.pdf");
    const Type3Stats stats = engine_then_replace(spec, spec.text, engine, path("after.pdf"));
    EXPECT_EQ(stats.replaced + stats.kept, 1);
    EXPECT_EQ(text_of(path("after.pdf")), spec.text);
    const RasterDiff diff = compare(rasterise(engine), rasterise(path("after.pdf")));
    EXPECT_TRUE(diff.close()) << diff << " (replaced " << stats.replaced << ")";
}

TEST_F(Type3FontsTest, AStreamThatCannotBeReadLeavesTheDocumentAsItWas) {
    Type3Spec spec;
    spec.font_path = kNotoSansMono;
    spec.postscript_name = "NotoSansMono-Regular";
    spec.text = "text on the page";
    spec.form_text = "text in the form";
    const std::string engine = path("engine.pdf");
    write_type3_pdf(engine, spec);
    // The form's data claims Flate but is not.
    {
        QPDF doc;
        doc.setSuppressWarnings(true);
        doc.processFile(engine.c_str());
        QPDFObjectHandle form = QPDFPageDocumentHelper(doc)
                                    .getAllPages()[0]
                                    .getAttribute("/Resources", false)
                                    .getKey("/XObject")
                                    .getKey("/Fm1");
        ASSERT_TRUE(form.isStream());
        form.replaceStreamData("not flate data at all", QPDFObjectHandle::newName("/FlateDecode"),
                               QPDFObjectHandle::newNull());
        // QPDFWriter keeps the name's pointer until write(): a named string.
        const std::string damaged = path("damaged.pdf");
        QPDFWriter writer(doc, damaged.c_str());
        writer.setStreamDataMode(qpdf_s_preserve);
        writer.write();
    }
    const Type3Stats stats = replace(path("damaged.pdf"), path("after.pdf"));
    EXPECT_EQ(stats.replaced, 0);
    EXPECT_NE(fonts_of(path("after.pdf")).find("Type 3"), std::string::npos);
    EXPECT_EQ(text_of(path("after.pdf")), text_of(path("damaged.pdf")));
    const RasterDiff diff = compare(rasterise(path("damaged.pdf")), rasterise(path("after.pdf")));
    EXPECT_EQ(diff.mean, 0) << diff;
}

}  // namespace
}  // namespace enconvert::render_child::pdf
