#include "render_child/pdf/glyph_text.h"

#include <vector>

#include "render_child/pdf/hb_ptr.h"

namespace enconvert::render_child::pdf {
namespace {

// Sequences Latin fonts ligate: f with any letter (fi, fl, ft, fj, fb, ...)
// and ff with any letter, plus the historical and discretionary ones.
std::vector<std::u32string> candidate_sequences() {
    std::vector<std::u32string> out = {U"ff", U"st", U"ct", U"sp", U"Th", U"tt", U"tz",
                                       U"ch", U"ck", U"gg", U"gj", U"gy", U"Qu", U"fft",
                                       U"ſt", U"ſi", U"ſl", U"ſſ", U"ij", U"IJ"};
    for (char32_t c = U'a'; c <= U'z'; ++c) {
        if (c != U'f') out.push_back(std::u32string(U"f") + c);
        out.push_back(std::u32string(U"ff") + c);
    }
    return out;
}

// A code point that shares its glyph with a far more common one, and that
// common one: extraction should give the text a reader typed.
struct Alias {
    hb_codepoint_t rare, common;
};
constexpr Alias kAliases[] = {
    {0x02BC, 0x2019},  // modifier letter apostrophe -> right single quote
    {0x02BB, 0x2018},  // modifier letter turned comma -> left single quote
    {0x2010, 0x002D},  // hyphen -> hyphen-minus
    {0x00AD, 0x002D},  // soft hyphen (printed at a break) -> hyphen-minus
    {0x00A0, 0x0020},  // no-break space -> space
};

}  // namespace

GlyphText analyse_glyph_text(const std::string& font) {
    GlyphText out;
    // The blob borrows `font`, which outlives every use below.
    HbBlobPtr blob(hb_blob_create_or_fail(font.data(), static_cast<unsigned>(font.size()),
                                          HB_MEMORY_MODE_READONLY, nullptr, nullptr));
    if (!blob) return out;
    HbFacePtr face(hb_face_create(blob.get(), 0));
    HbFontPtr hb(hb_font_create(face.get()));
    HbBufferPtr buffer(hb_buffer_create());
    if (!hb || !hb_buffer_allocation_successful(buffer.get())) return out;

    const hb_feature_t features[] = {{HB_TAG('l', 'i', 'g', 'a'), 1, 0, ~0u},
                                     {HB_TAG('c', 'l', 'i', 'g'), 1, 0, ~0u},
                                     {HB_TAG('d', 'l', 'i', 'g'), 1, 0, ~0u},
                                     {HB_TAG('h', 'l', 'i', 'g'), 1, 0, ~0u}};
    for (const std::u32string& letters : candidate_sequences()) {
        hb_buffer_clear_contents(buffer.get());
        hb_buffer_add_utf32(buffer.get(), reinterpret_cast<const std::uint32_t*>(letters.data()),
                            static_cast<int>(letters.size()), 0, -1);
        hb_buffer_set_direction(buffer.get(), HB_DIRECTION_LTR);
        hb_buffer_set_script(buffer.get(), HB_SCRIPT_LATIN);
        hb_buffer_set_language(buffer.get(), hb_language_from_string("en", -1));
        hb_shape(hb.get(), buffer.get(), features, std::size(features));
        unsigned count = 0;
        const hb_glyph_info_t* info = hb_buffer_get_glyph_infos(buffer.get(), &count);
        if (count != 1 || info[0].codepoint == 0) continue;
        // The first sequence wins a glyph two share ("st" before "ſt").
        out.ligatures.emplace(info[0].codepoint, letters);
    }
    for (const Alias& alias : kAliases) {
        hb_codepoint_t rare = 0, common = 0;
        if (hb_font_get_nominal_glyph(hb.get(), alias.rare, &rare) &&
            hb_font_get_nominal_glyph(hb.get(), alias.common, &common) && rare == common)
            out.preferred_chars.emplace(common, std::u32string(1, alias.common));
    }
    return out;
}

}  // namespace enconvert::render_child::pdf
