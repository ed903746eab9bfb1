// HarfBuzz's subsetter behind one call, with RAII for its handles.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace enconvert::render_child::pdf {

// A TrueType/OpenType font reduced to `glyphs` (glyph 0 is always kept),
// glyph ids unchanged, hinting and layout tables dropped (a PDF positions
// every glyph itself). `face_index` picks a face of a collection (.ttc);
// the result is that face alone. nullopt when HarfBuzz cannot subset it.
std::optional<std::string> subset_font(std::string_view font, const std::set<std::uint32_t>& glyphs,
                                       unsigned face_index = 0);

}  // namespace enconvert::render_child::pdf
