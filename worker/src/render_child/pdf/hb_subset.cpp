#include "render_child/pdf/hb_subset.h"

#include "render_child/pdf/hb_ptr.h"

namespace enconvert::render_child::pdf {
namespace {

// Tables a PDF renderer never reads: glyph substitution and positioning
// were applied when the page was laid out.
constexpr const char* kDroppedTables[] = {"GSUB", "GPOS", "GDEF", "BASE", "JSTF", "MATH",
                                          "kern", "morx", "mort", "feat", "DSIG", "hdmx",
                                          "LTSH", "VDMX", "gasp", "PCLT", "vmtx", "vhea"};

}  // namespace

std::optional<std::string> subset_font(std::string_view font, const std::set<std::uint32_t>& glyphs,
                                       unsigned face_index) {
    // The blob borrows `font`, which outlives every use below.
    HbBlobPtr blob(hb_blob_create_or_fail(font.data(), static_cast<unsigned>(font.size()),
                                          HB_MEMORY_MODE_READONLY, nullptr, nullptr));
    if (!blob) return std::nullopt;
    HbFacePtr face(hb_face_create(blob.get(), face_index));
    HbSubsetInputPtr input(hb_subset_input_create_or_fail());
    if (!face || !input) return std::nullopt;
    hb_set_t* keep = hb_subset_input_glyph_set(input.get());
    hb_set_add(keep, 0);  // .notdef
    for (std::uint32_t gid : glyphs) hb_set_add(keep, gid);
    hb_set_t* drop = hb_subset_input_set(input.get(), HB_SUBSET_SETS_DROP_TABLE_TAG);
    for (const char* tag : kDroppedTables) hb_set_add(drop, hb_tag_from_string(tag, 4));
    hb_subset_input_set_flags(input.get(),
                              HB_SUBSET_FLAGS_RETAIN_GIDS | HB_SUBSET_FLAGS_NO_HINTING);

    HbFacePtr subset(hb_subset_or_fail(face.get(), input.get()));
    if (!subset) return std::nullopt;
    HbBlobPtr out(hb_face_reference_blob(subset.get()));
    unsigned length = 0;
    const char* data = hb_blob_get_data(out.get(), &length);
    if (!data || length == 0) return std::nullopt;
    return std::string(data, length);
}

}  // namespace enconvert::render_child::pdf
