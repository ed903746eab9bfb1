// Turns the Type 3 fonts the engine writes for system fonts back into real
// embedded fonts.
//
// The engine (Skia) embeds only TrueType outlines of a plain face as a
// font; for a CFF face (URW's Nimbus fonts) and for a face it slants itself
// (fontconfig's synthetic oblique of a family without an italic) it draws
// each glyph as a Type 3 procedure instead: text that extracts worse, is
// not searchable in some viewers and prints as paths. Each such font names
// the face it was drawn from (its descriptor's FontName, "BAAAAA+NotoMono")
// and each glyph procedure its glyph id ("/g50").
//
// A Type 3 font is replaced by a Type 0 font (Identity-H) around that face's
// program only when the face is found on this system (fontconfig, by
// PostScript name) and every glyph procedure the pages use is that face's
// outline (every on-curve point, within 1.5/1000 em), upright or slanted
// by one common factor, with its advance; the slant then moves into the
// text matrix. Anything else (web fonts,
// colour or bitmap glyphs, variable instances, CID-keyed CFF whose codes
// are not glyph ids, text operators this rewrite does not follow) keeps
// its Type 3 font.
#pragma once

#include <qpdf/QPDF.hh>

namespace enconvert::render_child::pdf {

struct Type3Stats {
    int replaced = 0;     // Type 3 fonts now a Type 0 font around a system face
    int kept = 0;         // Type 3 fonts left as they are
    bool failed = false;  // an error stopped the pass: the document is unchanged
};

// Never throws: on any error the document is left as it was (`failed`).
// Runs before subset_fonts(): each face is embedded once, cut to the
// glyphs all its fonts show (one face of a collection), and the subsetter
// then merges it with identical programs and repairs the ToUnicode maps.
Type3Stats replace_type3_fonts(QPDF& pdf);

}  // namespace enconvert::render_child::pdf
