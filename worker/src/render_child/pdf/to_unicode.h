// The ToUnicode CMap of a composite font: what text a reader gets back from
// each 2-byte code when it copies, searches or reads the PDF aloud.
//
// The engine writes it from each glyph's entry in the font's cmap table,
// which is wrong in two common cases: a ligature glyph has no entry (the
// letters vanish: "after" extracts as "a er") or only a presentation-form
// one (U+FB01 "ﬁ" instead of "fi"), and a glyph shared by two code points
// gets the rarer one (U+02BC "ʼ" for U+2019 "’"). fix_text_map() repairs both.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace enconvert::render_child::pdf {

// Code (CID) -> the text it stands for.
using TextMap = std::map<std::uint32_t, std::u32string>;

// The bfchar and bfrange entries of a CMap stream (2-byte codes, UTF-16BE
// destinations); nullopt when it is not a CMap we can read completely.
std::optional<TextMap> parse_to_unicode(const std::string& cmap);

// A complete ToUnicode CMap for `map`, bfchar entries only.
std::string write_to_unicode(const TextMap& map);

// What the font's glyphs say, for the repair: the letters each ligature
// glyph stands for, and the code point each glyph is the nominal glyph of.
struct GlyphText {
    std::map<std::uint32_t, std::u32string> ligatures;        // glyph -> letters
    std::map<std::uint32_t, std::u32string> preferred_chars;  // glyph -> common code point
};

// Rewrites the entries of `map` whose glyph (`glyph_of(code)`) is a
// ligature or has a preferred code point, and adds the ligatures among
// `shown` (codes the pages show) that have no entry; returns how many
// entries changed. Presentation-form ligatures (U+FB00..U+FB06) become
// their letters even when the font's tables do not say so.
int fix_text_map(TextMap& map, const std::set<std::uint32_t>& shown, const GlyphText& glyphs,
                 const std::function<std::optional<std::uint32_t>(std::uint32_t)>& glyph_of);

// The decomposition of a Latin presentation-form ligature, empty if `c` is
// none.
std::u32string ligature_letters(char32_t c);

// The unified ideograph a CJK radical or compatibility ideograph stands
// for, empty if `c` is none. CJK fonts draw 日 and the Kangxi radical ⽇
// with one glyph, and the engine's map may name the radical: extraction
// and search want the ideograph a reader typed.
std::u32string unified_ideograph(char32_t c);

}  // namespace enconvert::render_child::pdf
