// Reads from a font program which text its ligature glyphs stand for and
// which code point each glyph is best extracted as (to_unicode.h).
#pragma once

#include <string>

#include "render_child/pdf/to_unicode.h"

namespace enconvert::render_child::pdf {

// Ligatures are found by shaping the letter sequences fonts ligate (fi, ffl,
// ft, st, Th, ...) with HarfBuzz and keeping those that become one glyph;
// an empty result when HarfBuzz cannot read the font.
GlyphText analyse_glyph_text(const std::string& font);

}  // namespace enconvert::render_child::pdf
