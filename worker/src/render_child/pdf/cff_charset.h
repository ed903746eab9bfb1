// The little of a CFF table (Adobe TN 5176) the Type 3 replacement needs to
// know: whether the font is CID-keyed, and which CID each glyph has there.
// A PDF selects a CID-keyed CFF font's glyphs by CID (ISO 32000-1,
// 9.7.4.2), a name-keyed one's by glyph id.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace enconvert::render_child::pdf {

struct CffCharset {
    bool cid_keyed = false;
    // CID of each glyph id (index); empty for a name-keyed font.
    std::vector<std::uint32_t> cid_of_glyph;
};

// nullopt when the table cannot be read.
std::optional<CffCharset> read_cff_charset(std::string_view cff);

}  // namespace enconvert::render_child::pdf
