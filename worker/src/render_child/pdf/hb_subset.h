// HarfBuzz's subsetter behind one call, with RAII for its handles.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>

namespace enconvert::render_child::pdf {

// A TrueType/OpenType font reduced to `glyphs` (glyph 0 is always kept),
// glyph ids unchanged, hinting and layout tables dropped (a PDF positions
// every glyph itself). nullopt when HarfBuzz cannot subset it.
std::optional<std::string> subset_font(const std::string& font,
                                       const std::set<std::uint32_t>& glyphs);

}  // namespace enconvert::render_child::pdf
