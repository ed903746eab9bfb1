#include "render_child/pdf/to_unicode.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "render_child/pdf/glyph_text.h"

namespace enconvert::render_child::pdf {
namespace {

// What WebKitGTK 2.50 (Skia) wrote for a DejaVu Serif paragraph.
constexpr const char* kEngineCMap =
    "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
    "/CIDSystemInfo\n<<  /Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n"
    "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
    "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
    "3 beginbfchar\n<0003> <0020>\n<0788> <2019>\n<0CF2> <FB00>\nendbfchar\n"
    "2 beginbfrange\n<0046> <0048> <0063>\n<078B> <078C> [<201C> <D83DDE00>]\nendbfrange\n"
    "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n";

std::string read_file(const char* path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

TEST(ToUnicodeTest, ReadsCharsRangesAndArraysWithSurrogatePairs) {
    std::optional<TextMap> map = parse_to_unicode(kEngineCMap);
    ASSERT_TRUE(map);
    EXPECT_EQ(map->size(), 8u);
    EXPECT_EQ(map->at(0x0003), U" ");
    EXPECT_EQ(map->at(0x0046), U"c");
    EXPECT_EQ(map->at(0x0048), U"e");  // the range counts up
    EXPECT_EQ(map->at(0x078B), U"\u201C");
    EXPECT_EQ(map->at(0x078C), U"\U0001F600");
    EXPECT_EQ(map->at(0x0CF2), U"\uFB00");
}

TEST(ToUnicodeTest, WrittenMapReadsBackTheSame) {
    std::optional<TextMap> map = parse_to_unicode(kEngineCMap);
    ASSERT_TRUE(map);
    (*map)[0x0CF2] = U"ffi";
    for (std::uint32_t code = 0x100; code < 0x1F0; ++code) (*map)[code] = U"x";  // > 100 entries
    const std::string written = write_to_unicode(*map);
    std::optional<TextMap> again = parse_to_unicode(written);
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, *map);
    EXPECT_EQ(written.find("101 beginbfchar"), std::string::npos);  // blocks of at most 100
}

TEST(ToUnicodeTest, UnreadableMapsAreRefusedNotGuessed) {
    EXPECT_FALSE(parse_to_unicode("no cmap here"));
    EXPECT_FALSE(parse_to_unicode("1 beginbfchar <00zz> <0041> endbfchar"));
    EXPECT_FALSE(parse_to_unicode("1 beginbfrange <0010> <0001> <0041> endbfrange"));
}

TEST(ToUnicodeTest, LigaturesBecomeLettersAndAliasesTheCommonCharacter) {
    TextMap map = {{1, U"\uFB01"}, {2, U"\uFB04"}, {3, U"a"}, {4, U"\u02BC"}, {5, U"\u02BC"}};
    GlyphText glyphs;
    glyphs.ligatures[40] = U"ft";           // no cmap entry: extracted as nothing today
    glyphs.preferred_chars[4] = U"\u2019";  // glyph 4 is also U+2019's glyph
    const std::set<std::uint32_t> shown = {1, 2, 3, 4, 5, 40};
    const int changed = fix_text_map(
        map, shown, glyphs, [](std::uint32_t code) { return std::optional<std::uint32_t>(code); });
    EXPECT_EQ(changed, 4);
    EXPECT_EQ(map[1], U"fi");
    EXPECT_EQ(map[2], U"ffl");
    EXPECT_EQ(map[3], U"a");
    EXPECT_EQ(map[4], U"\u2019");
    EXPECT_EQ(map[5], U"\u02BC");  // a glyph of its own: the text really was ʼ
    EXPECT_EQ(map[40], U"ft");
}

TEST(ToUnicodeTest, CjkRadicalsAndCompatibilityIdeographsBecomeTheUnifiedIdeograph) {
    // Noto CJK draws 日 (U+65E5) and the Kangxi radical ⽇ (U+2F47) with one
    // glyph, and the engine's map names the radical.
    TextMap map = {{1, U"\u2F47"}, {2, U"\u65E5"}, {3, U"\uF900"}, {4, U"\u2E9F"}, {5, U"\u3042"}};
    const int changed = fix_text_map(map, {1, 2, 3, 4, 5}, GlyphText{}, [](std::uint32_t code) {
        return std::optional<std::uint32_t>(code);
    });
    EXPECT_EQ(changed, 3);
    EXPECT_EQ(map[1], U"\u65E5");
    EXPECT_EQ(map[2], U"\u65E5");
    EXPECT_EQ(map[3], U"\u8C48");  // 豈, the compatibility ideograph's canonical form
    EXPECT_EQ(map[4], U"\u6BCD");  // ⺟ -> 母
    EXPECT_EQ(map[5], U"\u3042");  // あ is no radical
    EXPECT_EQ(unified_ideograph(U'a'), U"");
}

TEST(GlyphTextTest, FindsTheLigatureGlyphsOfARealFont) {
    const std::string font = read_file("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
    ASSERT_FALSE(font.empty());
    const GlyphText text = analyse_glyph_text(font);
    std::set<std::u32string> letters;
    for (const auto& [glyph, seq] : text.ligatures) letters.insert(seq);
    // DejaVu Sans ligates fi, fl, ffi, ffl (measured: they printed as ﬁ ﬂ ﬃ ﬄ).
    for (const char32_t* expected : {U"fi", U"fl", U"ffi", U"ffl"})
        EXPECT_TRUE(letters.count(expected)) << "missing a ligature";
    EXPECT_TRUE(analyse_glyph_text("not a font").ligatures.empty());
}

}  // namespace
}  // namespace enconvert::render_child::pdf
