// The text of a printed PDF, one normalised character at a time with the
// box poppler gives it, so the page's links and headings can be found
// where they were really printed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace enconvert::render_child::pdf {

// One character of the printed text after normalisation (see
// normalize_text), with its glyph's box on its page: points, origin
// top-left, as `pdftotext -bbox` reports words.
struct Glyph {
    char32_t c = 0;
    int page = 0;
    double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

struct PageText {
    std::vector<Glyph> glyphs;         // pages in order, reading order within a page
    std::vector<double> page_heights;  // points, per page
};

// Matching text between the page's DOM and the PDF must survive what
// printing does to it: line breaks and collapsed spaces, hyphenation at a
// line's end, text-transform, ligatures and compatibility forms (Skia maps
// some CJK ideographs to Kangxi radicals), combining accents drawn as
// separate glyphs. So both sides drop white space, hyphens and dashes,
// format characters and combining marks, decompose compatibility forms
// and compare lowercase.
std::u32string normalize_text(std::string_view utf8);

// Appends the normalised form of one character (nothing, one or several).
void append_normalized(char32_t c, std::u32string& out);

// Reads the text of every page of the PDF at `path` with poppler. On
// failure returns no glyphs and sets *error.
PageText read_page_text(const std::string& path, std::string* error);

}  // namespace enconvert::render_child::pdf
