// Links, outline and metadata placed in PDFs made at test time: the text
// locator finds the page's texts where they were printed (checked against
// the word boxes `pdftotext -bbox` reports), the placer decides what was
// printed, the outline writer nests bookmarks, the annotator writes URI
// and GoTo links, the metadata writer the document information.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <qpdf/QPDFOutlineDocumentHelper.hh>
#include <qpdf/QPDFPageDocumentHelper.hh>
#include <qpdf/QPDFPageObjectHelper.hh>
#include <regex>

#include "pdf_fixtures.h"
#include "render_child/pdf/mark_placer.h"
#include "render_child/pdf/outline_writer.h"
#include "render_child/pdf/page_text.h"
#include "render_child/pdf/postprocess.h"
#include "render_child/pdf/text_locator.h"

namespace enconvert::render_child::pdf {
namespace {

namespace fs = std::filesystem;
using namespace testing;

constexpr double kPageH = 841.89;
// The sheet the fixtures are "printed" on: 10 mm margins.
constexpr double kMargin = 28.35;
const PageGeometry kGeometry{kPageH, kMargin, kPageH - 2 * kMargin};

// A word as pdftotext -bbox reports it (points, origin top-left).
struct Word {
    int page;
    std::string text;
    double x0, y0, x1, y1;
};

std::vector<Word> words_of(const std::string& pdf) {
    const std::string out = test_support::run_command("pdftotext -bbox '" + pdf + "' -");
    std::vector<Word> words;
    int page = -1;
    const std::regex token(
        R"re(<page |<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>)re");
    for (auto it = std::sregex_iterator(out.begin(), out.end(), token);
         it != std::sregex_iterator(); ++it) {
        const auto& m = *it;
        if (!m[1].matched) {
            ++page;
            continue;
        }
        words.push_back(
            {page, m[5], std::stod(m[1]), std::stod(m[2]), std::stod(m[3]), std::stod(m[4])});
    }
    return words;
}

// The box covering words [first, last] of `words` that read `text`
// (consecutive words on one line), in PDF user space like LinkArea.
LinkArea box_of_words(const std::vector<Word>& words, const std::string& text, int nth = 0) {
    std::vector<std::string> want;
    std::istringstream in(text);
    for (std::string w; in >> w;) want.push_back(w);
    for (std::size_t i = 0; i + want.size() <= words.size(); ++i) {
        bool equal = true;
        for (std::size_t k = 0; k < want.size() && equal; ++k) equal = words[i + k].text == want[k];
        if (!equal || nth-- > 0) continue;
        LinkArea a;
        a.page = words[i].page;
        a.x0 = words[i].x0;
        a.x1 = words[i + want.size() - 1].x1;
        a.y0 = kPageH - words[i].y1;
        a.y1 = kPageH - words[i].y0;
        return a;
    }
    ADD_FAILURE() << "\"" << text << "\" not printed";
    return {};
}

void expect_box(const LinkArea& got, const LinkArea& want) {
    EXPECT_EQ(got.page, want.page);
    EXPECT_NEAR(got.x0, want.x0, 0.5);
    EXPECT_NEAR(got.x1, want.x1, 0.5);
    EXPECT_NEAR(got.y0, want.y0, 0.5);
    EXPECT_NEAR(got.y1, want.y1, 0.5);
}

// Flow coordinates (marks.h) of a point drawn at (x, baseline y) on `page`.
FlowBox flow(int page, double x, double y, double w = 60, double h = 14) {
    return {x, page * kGeometry.printable_height + (y - 12 - kMargin), w, h};
}

MarkSource link(const std::string& text, const std::string& uri, FlowBox at) {
    MarkSource m;
    m.text = text;
    m.uri = uri;
    m.boxes = {at};
    return m;
}

class MarksTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("enconvert-marks-test-" + std::to_string(getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    std::string path(const std::string& name) const { return (dir_ / name).string(); }

    // Two pages of text: links, a wrapped and a hyphenated one, the same
    // words twice, a heading on page 2.
    std::string two_pages() {
        const std::string file = path("doc.pdf");
        write_cairo_pdf(file, 2, [](cairo_t* cr, int page) {
            if (page == 0) {
                draw_text(cr, 72, 100, "Intro text with a first link here");
                draw_text(cr, 72, 130, "Some words then alpha beta");
                draw_text(cr, 72, 150, "gamma delta and more words");
                draw_text(cr, 72, 180, "A split infor-");
                draw_text(cr, 72, 200, "mation line");
                draw_text(cr, 72, 300, "Read more");
                draw_text(cr, 300, 300, "Read more");
                draw_text(cr, 72, 600, "Read more");
            } else {
                draw_text(cr, 72, 100, "Target heading");
                draw_text(cr, 72, 130, "The word home printed here");
            }
        });
        return file;
    }

    fs::path dir_;
};

TEST(NormalizeText, IgnoresSpacesHyphensCaseAndCompatibilityForms) {
    EXPECT_EQ(normalize_text("  Read\n more "), U"readmore");
    EXPECT_EQ(normalize_text("infor-\nmation"), normalize_text("information"));
    EXPECT_EQ(normalize_text("well\u00ADknown \u2013 x"), U"wellknownx");
    EXPECT_EQ(normalize_text("\uFB01ne"), U"fine");              // ligature
    EXPECT_EQ(normalize_text("\u2F47\u672C"), U"\u65E5\u672C");  // Kangxi radical
    EXPECT_EQ(normalize_text("Cafe\u0301"), normalize_text("Café"));
    EXPECT_EQ(normalize_text("\xff"), U"");  // not UTF-8: skipped
}

TEST_F(MarksTest, PageTextHasPoppersBoxesPerCharacter) {
    const std::string file = two_pages();
    std::string error;
    const PageText text = read_page_text(file, &error);
    EXPECT_EQ(error, "");
    ASSERT_EQ(text.page_heights.size(), 2u);
    EXPECT_NEAR(text.page_heights[0], kPageH, 0.01);
    TextLocator locator(text, kGeometry);
    const auto spans = locator.find_all(normalize_text("first link"));
    ASSERT_EQ(spans.size(), 1u);
    const auto boxes = locator.line_boxes(spans[0]);
    ASSERT_EQ(boxes.size(), 1u);
    expect_box(boxes[0], box_of_words(words_of(file), "first link"));

    EXPECT_TRUE(read_page_text(path("missing.pdf"), &error).glyphs.empty());
    EXPECT_NE(error, "");
}

TEST_F(MarksTest, LinksCoverTheirPrintedWordsLineByLine) {
    const std::string file = two_pages();
    const std::vector<Word> words = words_of(file);
    MarkSources sources;
    sources.items = {
        link("first link", "https://a.example/1", flow(0, 150, 100)),
        // Wrapped over two lines: a box per line.
        link("beta gamma", "https://a.example/2", flow(0, 180, 130)),
        // Hyphenated at the line's end.
        link("split information", "https://a.example/3", flow(0, 90, 180)),
        // Text the PDF does not have: not printed.
        link("Sidebar entry", "https://a.example/hidden", flow(0, 10, 100)),
    };
    const PlacedMarks placed = place_marks(read_page_text(file, nullptr), kGeometry, sources);
    EXPECT_EQ(placed.links_not_printed, 1);
    ASSERT_EQ(placed.links.size(), 1u + 2u + 2u);
    expect_box(placed.links[0], box_of_words(words, "first link"));
    EXPECT_EQ(*placed.links[0].uri, "https://a.example/1");
    EXPECT_FALSE(placed.links[0].dest);
    expect_box(placed.links[1], box_of_words(words, "beta"));
    expect_box(placed.links[2], box_of_words(words, "gamma"));
    expect_box(placed.links[3], box_of_words(words, "split infor-"));
    expect_box(placed.links[4], box_of_words(words, "mation"));
    for (int i : {1, 2})
        EXPECT_EQ(*placed.links[static_cast<std::size_t>(i)].uri, sources.items[1].uri);
}

TEST_F(MarksTest, TheSameTextGoesToTheNearestUnusedPlace) {
    const std::string file = two_pages();
    const std::vector<Word> words = words_of(file);
    MarkSources sources;
    // Measured near the second and first "Read more" on the line at 300
    // and the one at 600; a fourth has no place left within a page.
    sources.items = {link("Read more", "https://a.example/right", flow(0, 290, 302)),
                     link("Read more", "https://a.example/left", flow(0, 80, 298)),
                     link("Read more", "https://a.example/low", flow(0, 72, 590)),
                     link("Read more", "https://a.example/extra", flow(0, 72, 300))};
    const PlacedMarks placed = place_marks(read_page_text(file, nullptr), kGeometry, sources);
    ASSERT_EQ(placed.links.size(), 3u);
    // pdftotext lists the three: left at 300, left at 600, right at 300.
    expect_box(placed.links[0], box_of_words(words, "Read more", 2));
    expect_box(placed.links[1], box_of_words(words, "Read more", 0));
    expect_box(placed.links[2], box_of_words(words, "Read more", 1));
    EXPECT_NEAR(placed.links[0].x0, 300, 0.5);
    EXPECT_NEAR(placed.links[2].y0, kPageH - 600 - 4, 2);
    EXPECT_EQ(placed.links_not_printed, 1);
}

TEST_F(MarksTest, ShortTextFarFromItsMeasurementIsNotTaken) {
    const std::string file = two_pages();
    MarkSources sources;
    // "home" is printed on page 2 only; a "Home" link measured at the top
    // of page 1 (a sidebar print styles hid) must not land on it.
    sources.items = {link("Home", "https://a.example/home", flow(0, 20, 40))};
    PlacedMarks placed = place_marks(read_page_text(file, nullptr), kGeometry, sources);
    EXPECT_TRUE(placed.links.empty());
    EXPECT_EQ(placed.links_not_printed, 1);
    // Measured near it, it is.
    sources.items = {link("home", "https://a.example/home", flow(1, 100, 130))};
    placed = place_marks(read_page_text(file, nullptr), kGeometry, sources);
    ASSERT_EQ(placed.links.size(), 1u);
    EXPECT_EQ(placed.links[0].page, 1);
}

TEST_F(MarksTest, DriftLearntFromPlacedMarksFindsLaterOnes) {
    const std::string file = two_pages();
    MarkSources sources;
    // The page measured everything a page too high (print layout pushed
    // it down): the long text is found anyway and teaches the drift, so
    // the short one after it is found on page 2 too.
    const double up = kGeometry.printable_height;
    FlowBox a = flow(1, 72, 100);
    a.y -= up;
    FlowBox b = flow(1, 120, 130);
    b.y -= up;
    sources.items = {link("Target heading", "https://a.example/t", a),
                     link("home", "https://a.example/home", b)};
    const PlacedMarks placed = place_marks(read_page_text(file, nullptr), kGeometry, sources);
    ASSERT_EQ(placed.links.size(), 2u);
    EXPECT_EQ(placed.links[1].page, 1);
    expect_box(placed.links[1], box_of_words(words_of(file), "home"));
}

// A page that repeats one link text on every line, tens of thousands of
// times: each link still goes to its own line, and image links and
// targets take the drift learnt nearest them. Looking at every
// occurrence for every link (and every learnt drift for every image link)
// took minutes here, on the child's main loop that all its views share.
TEST(MarkPlacer, ThousandsOfLinksWithOneTextEachGoToTheirOwnLine) {
    constexpr int kLines = 100000, kPerPage = 60;
    constexpr double kLineH = 12;
    PageText text;
    text.page_heights.assign(kLines / kPerPage + 1, kPageH);
    MarkSources sources;
    for (int i = 0; i < kLines; ++i) {
        const int page = i / kPerPage;
        const double top = kMargin + (i % kPerPage) * kLineH;
        double x = 72;
        for (char32_t c : std::u32string(U"link")) {
            text.glyphs.push_back({c, page, x, top, x + 6, top + 10});
            x += 6;
        }
        // Measured a little higher than printed, as print layout does.
        const FlowBox at{72, page * kGeometry.printable_height + (top - kMargin) - 3, 24, 10};
        sources.items.push_back(link(i % 10 == 9 ? "" : "link", "https://a.example/", at));
    }
    const PlacedMarks placed = place_marks(text, kGeometry, sources);
    EXPECT_EQ(placed.links_not_printed, 0);
    EXPECT_EQ(placed.links_estimated, kLines / 10);
    ASSERT_EQ(placed.links.size(), static_cast<std::size_t>(kLines));
    // In document order: link i on line i, image links moved by the drift
    // (3 points down) onto their line too.
    for (int i = 0; i < kLines; ++i) {
        const LinkArea& a = placed.links[static_cast<std::size_t>(i)];
        const double top = kMargin + (i % kPerPage) * kLineH;
        ASSERT_EQ(a.page, i / kPerPage) << i;
        ASSERT_NEAR(a.y1, kPageH - top, 0.01) << i;
    }
}

TEST_F(MarksTest, FragmentLinksJumpToTheirTargetsAndHeadingsMakeTheOutline) {
    const std::string file = two_pages();
    const std::vector<Word> words = words_of(file);
    MarkSources sources;
    sources.targets = {{"Target heading", flow(1, 72, 100), false}, {"", {}, true}};
    MarkSource toc = link("first link", "", flow(0, 150, 100));
    toc.target = 0;
    MarkSource top = link("Intro text", "", flow(0, 72, 100));
    top.target = 1;
    MarkSource heading;
    heading.kind = MarkSource::Kind::Heading;
    heading.level = 2;
    heading.text = "Target heading";
    heading.boxes = {flow(1, 72, 100)};
    MarkSource hidden = heading;
    hidden.text = "Heading hidden in print";
    sources.items = {toc, top, heading, hidden};
    const PlacedMarks placed = place_marks(read_page_text(file, nullptr), kGeometry, sources);
    ASSERT_EQ(placed.links.size(), 2u);
    const LinkArea target = box_of_words(words, "Target heading");
    ASSERT_TRUE(placed.links[0].dest);
    EXPECT_EQ(placed.links[0].dest->page, 1);
    EXPECT_NEAR(placed.links[0].dest->y, target.y1 + 4, 0.5);  // a little above the text
    EXPECT_NEAR(placed.links[0].dest->x, target.x0, 0.5);
    ASSERT_TRUE(placed.links[1].dest);
    EXPECT_EQ(placed.links[1].dest->page, 0);
    EXPECT_NEAR(placed.links[1].dest->y, kPageH, 0.01);
    ASSERT_EQ(placed.outline.size(), 1u);
    EXPECT_EQ(placed.outline[0].title, "Target heading");
    EXPECT_EQ(placed.outline[0].level, 2);
    EXPECT_EQ(placed.outline[0].dest.page, 1);
    EXPECT_EQ(placed.headings_not_printed, 1);
}

TEST_F(MarksTest, ImageLinksKeepTheirMeasuredBoxOnlyWhollyOnAPage) {
    const std::string file = two_pages();
    MarkSources sources;
    MarkSource on_page = link("", "https://a.example/img", {100, 200, 50, 40});
    MarkSource straddling =
        link("", "https://a.example/cut", {100, kGeometry.printable_height - 20, 50, 40});
    MarkSource beyond = link("", "https://a.example/off", {100, 5 * kGeometry.page_height, 50, 40});
    sources.items = {on_page, straddling, beyond};
    const PlacedMarks placed = place_marks(read_page_text(file, nullptr), kGeometry, sources);
    ASSERT_EQ(placed.links.size(), 1u);
    EXPECT_EQ(placed.links_estimated, 1);
    EXPECT_EQ(placed.links_not_printed, 2);
    const LinkArea& a = placed.links[0];
    EXPECT_EQ(a.page, 0);
    EXPECT_NEAR(a.x0, 100, 0.01);
    EXPECT_NEAR(a.y1, kPageH - kMargin - 200, 0.01);
    EXPECT_NEAR(a.y0, a.y1 - 40, 0.01);
}

// A hostile page's image-only link wrapped over thousands of tiny lines
// with a long URL: every box became an annotation with its own copy of
// the URL (19,988 annotations and 1.25 GB here). A link keeps its first
// kMaxAreasPerLink areas, sharing one URL.
TEST_F(MarksTest, ALinkOfThousandsOfBoxesKeepsItsFirstAreasSharingOneUrl) {
    const std::string file = two_pages();
    MarkSources sources;
    MarkSource many = link("", "https://a.example/" + std::string(60000, 'a'), {});
    many.boxes.clear();
    for (int i = 0; i < 20000; ++i) many.boxes.push_back({100, 200 + (i % 400) * 1.0, 3, 1});
    sources.items = {many};
    const PlacedMarks placed = place_marks(read_page_text(file, nullptr), kGeometry, sources);
    ASSERT_EQ(placed.links.size(), kMaxAreasPerLink);
    for (const LinkArea& a : placed.links) EXPECT_EQ(a.uri.get(), placed.links[0].uri.get());
    EXPECT_EQ(placed.links[0].uri->size(), 60018u);
}

// Links are taken in document order while their areas add up to at most
// kMaxLinkAreas in all.
TEST_F(MarksTest, LinkAreasStopAtTheDocumentsBound) {
    const std::string file = two_pages();
    MarkSources sources;
    const std::size_t links = kMaxLinkAreas / kMaxAreasPerLink + 2;
    for (std::size_t k = 0; k < links; ++k) {
        MarkSource l = link("", "https://a.example/" + std::to_string(k), {});
        l.boxes.assign(kMaxAreasPerLink, FlowBox{100, 200, 3, 1});
        sources.items.push_back(l);
    }
    const PlacedMarks placed = place_marks(read_page_text(file, nullptr), kGeometry, sources);
    EXPECT_LE(placed.links.size(), kMaxLinkAreas);
    EXPECT_EQ(placed.links.size(), (kMaxLinkAreas / kMaxAreasPerLink) * kMaxAreasPerLink);
    EXPECT_EQ(*placed.links.back().uri,
              "https://a.example/" + std::to_string(kMaxLinkAreas / kMaxAreasPerLink - 1));
}

// The areas of one link share one URI action in the PDF: the URL is
// written once, not once per line.
TEST_F(MarksTest, TheAreasOfALinkShareOneUriAction) {
    const std::string file = path("shared.pdf");
    write_cairo_pdf(file, 1, [](cairo_t* cr, int) { draw_text(cr, 72, 100, "x"); });
    const auto uri =
        std::make_shared<const std::string>("https://example.com/" + std::string(1000, 'u'));
    const auto other = std::make_shared<const std::string>("https://example.com/other");
    PostProcessInput input;
    input.links = {{0, 72, 700, 200, 720, uri, std::nullopt},
                   {0, 72, 680, 200, 690, uri, std::nullopt},
                   {0, 72, 650, 200, 670, other, std::nullopt}};
    PostProcessStats stats;
    ASSERT_EQ(postprocess(file, input, &stats).message, "");
    EXPECT_EQ(stats.links, 3);
    QPDF doc;
    doc.processFile(file.c_str());
    auto annots = QPDFPageDocumentHelper(doc).getAllPages()[0].getAnnotations("/Link");
    ASSERT_EQ(annots.size(), 3u);
    QPDFObjectHandle a0 = annots[0].getObjectHandle().getKey("/A");
    QPDFObjectHandle a1 = annots[1].getObjectHandle().getKey("/A");
    QPDFObjectHandle a2 = annots[2].getObjectHandle().getKey("/A");
    ASSERT_TRUE(a0.isIndirect());
    EXPECT_EQ(a0.getObjGen(), a1.getObjGen());
    EXPECT_NE(a0.getObjGen(), a2.getObjGen());
    EXPECT_EQ(a0.getKey("/URI").getUTF8Value(), *uri);
    EXPECT_EQ(a2.getKey("/URI").getUTF8Value(), *other);
}

// Outline entries as qpdf reads them back: (depth, title, page index).
void walk(QPDFOutlineDocumentHelper& helper, std::vector<QPDFOutlineObjectHelper> items, int depth,
          std::vector<std::tuple<int, std::string, int>>& out, QPDF& doc) {
    std::vector<QPDFPageObjectHelper> pages = QPDFPageDocumentHelper(doc).getAllPages();
    for (auto& item : items) {
        const QPDFObjectHandle page = item.getDestPage();
        int index = -1;
        for (std::size_t i = 0; i < pages.size(); ++i)
            if (pages[i].getObjectHandle().getObjGen() == page.getObjGen())
                index = static_cast<int>(i);
        out.emplace_back(depth, item.getTitle(), index);
        walk(helper, item.getKids(), depth + 1, out, doc);
    }
}

TEST_F(MarksTest, OutlineNestsByLevelAndOpensTheHeadingsPage) {
    const std::string file = path("outline.pdf");
    write_cairo_pdf(file, 3, [](cairo_t* cr, int page) {
        draw_text(cr, 72, 100, "Page " + std::to_string(page + 1));
    });
    PostProcessInput input;
    input.outline = {{1, "Title", {0, 72, 800}},    {2, "Part one", {0, 72, 600}},
                     {3, "Detail", {1, 72, 700}},   {3, "More detail", {1, 72, 300}},
                     {2, "Part two", {2, 72, 800}}, {4, "Deep, no h3", {2, 72, 500}},
                     {2, "Nowhere", {7, 0, 0}},     {1, "Résumé — 履歴書", {2, 72, 100}}};
    PostProcessStats stats;
    ASSERT_EQ(postprocess(file, input, &stats).message, "");
    EXPECT_EQ(stats.outline_entries, 7);

    QPDF doc;
    doc.processFile(file.c_str());
    QPDFOutlineDocumentHelper helper(doc);
    std::vector<std::tuple<int, std::string, int>> got;
    walk(helper, helper.getTopLevelOutlines(), 1, got, doc);
    const std::vector<std::tuple<int, std::string, int>> want = {
        {1, "Title", 0},    {2, "Part one", 0},    {3, "Detail", 1},         {3, "More detail", 1},
        {2, "Part two", 2}, {3, "Deep, no h3", 2}, {1, "Résumé — 履歴書", 2}};
    EXPECT_EQ(got, want);
    QPDFObjectHandle root = doc.getRoot();
    EXPECT_EQ(root.getKey("/PageMode").getName(), "/UseOutlines");
    EXPECT_EQ(root.getKey("/Outlines").getKey("/Count").getIntValue(), 7);
    // The first entry's destination: its page, the point at the top left.
    QPDFObjectHandle dest =
        root.getKey("/Outlines").getKey("/First").getKey("/First").getKey("/Dest");
    ASSERT_TRUE(dest.isArray());
    EXPECT_EQ(dest.getArrayItem(1).getName(), "/XYZ");
    EXPECT_NEAR(dest.getArrayItem(2).getNumericValue(), 72, 0.01);
    EXPECT_NEAR(dest.getArrayItem(3).getNumericValue(), 600, 0.01);
    EXPECT_TRUE(dest.getArrayItem(4).isNull());

    // No entries: no outline and the viewer's default mode.
    const std::string plain = path("plain.pdf");
    write_cairo_pdf(plain, 1, [](cairo_t* cr, int) { draw_text(cr, 72, 100, "x"); });
    ASSERT_EQ(postprocess(plain, {}).message, "");
    QPDF plain_doc;
    plain_doc.processFile(plain.c_str());
    EXPECT_FALSE(plain_doc.getRoot().hasKey("/Outlines"));
    EXPECT_FALSE(plain_doc.getRoot().hasKey("/PageMode"));
}

TEST_F(MarksTest, FragmentLinksAreGoToDestinations) {
    const std::string file = path("goto.pdf");
    write_cairo_pdf(file, 2, [](cairo_t* cr, int) { draw_text(cr, 72, 100, "x"); });
    PostProcessInput input;
    LinkArea internal{0, 72, 700, 200, 720, nullptr, Destination{1, 72, 500}};
    LinkArea broken{0, 72, 600, 200, 620, nullptr, Destination{9, 0, 0}};
    LinkArea external{0,           72,  650,
                      200,         670, std::make_shared<const std::string>("https://example.com/"),
                      std::nullopt};
    input.links = {internal, broken, external};
    PostProcessStats stats;
    ASSERT_EQ(postprocess(file, input, &stats).message, "");
    EXPECT_EQ(stats.links, 2);
    QPDF doc;
    doc.processFile(file.c_str());
    std::vector<QPDFPageObjectHelper> pages = QPDFPageDocumentHelper(doc).getAllPages();
    auto annots = pages[0].getAnnotations("/Link");
    ASSERT_EQ(annots.size(), 2u);
    QPDFObjectHandle dest = annots[0].getObjectHandle().getKey("/Dest");
    ASSERT_TRUE(dest.isArray());
    EXPECT_EQ(dest.getArrayItem(0).getObjGen(), pages[1].getObjectHandle().getObjGen());
    EXPECT_NEAR(dest.getArrayItem(3).getNumericValue(), 500, 0.01);
    EXPECT_FALSE(annots[0].getObjectHandle().hasKey("/A"));
    EXPECT_EQ(annots[1].getObjectHandle().getKey("/A").getKey("/URI").getUTF8Value(),
              "https://example.com/");
}

TEST_F(MarksTest, DocumentInformationIsWrittenAndEmptyFieldsRemoved) {
    const std::string file = path("info.pdf");
    write_cairo_pdf(file, 1, [](cairo_t* cr, int) { draw_text(cr, 72, 100, "Info"); });
    PostProcessInput input;
    input.info = {"Port handbook", "Harbour Authority", "How the port runs", "port, storms"};
    ASSERT_EQ(postprocess(file, input).message, "");
    std::string info = test_support::run_command("pdfinfo '" + file + "'");
    EXPECT_TRUE(std::regex_search(info, std::regex("Title: +Port handbook\n"))) << info;
    EXPECT_TRUE(std::regex_search(info, std::regex("Author: +Harbour Authority\n"))) << info;
    EXPECT_TRUE(std::regex_search(info, std::regex("Subject: +How the port runs\n"))) << info;
    EXPECT_TRUE(std::regex_search(info, std::regex("Keywords: +port, storms\n"))) << info;
    input.info = {"Only a title", "", "", ""};
    ASSERT_EQ(postprocess(file, input).message, "");
    info = test_support::run_command("pdfinfo '" + file + "'");
    EXPECT_TRUE(std::regex_search(info, std::regex("Title: +Only a title\n"))) << info;
    EXPECT_EQ(info.find("Author:"), std::string::npos) << info;
    EXPECT_EQ(info.find("Keywords:"), std::string::npos) << info;
}

}  // namespace
}  // namespace enconvert::render_child::pdf
