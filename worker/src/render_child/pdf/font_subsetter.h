// Subsets and de-duplicates the fonts WebKitGTK embeds whole (its PDFs name
// fonts as subsets, "AAAAAA+LiberationSans", but carry the entire font
// file, often several times).
//
// The glyphs a font program needs are read from the text-showing operators
// of every page and form XObject that uses it; identical programs are
// merged into one, subset once with HarfBuzz keeping glyph ids (so content
// streams and CIDToGIDMaps stay valid), and every descriptor points at it.
#pragma once

#include <qpdf/QPDF.hh>

namespace enconvert::render_child::pdf {

struct FontStats {
    int programs = 0;         // distinct font programs after de-duplication
    int subset = 0;           // of which rewritten smaller
    int duplicates = 0;       // embedded copies dropped in favour of an identical one
    int text_maps_fixed = 0;  // ToUnicode maps repaired (ligatures, aliases)
};

// Before subsetting, each font's ToUnicode map is repaired from its program
// (to_unicode.h), so text extracts as it was typed.
//
// Fonts it cannot analyse (simple fonts, Type3, bare CFF) are left as they are.
FontStats subset_fonts(QPDF& pdf);

}  // namespace enconvert::render_child::pdf
