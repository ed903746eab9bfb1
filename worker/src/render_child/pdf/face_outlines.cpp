#include "render_child/pdf/face_outlines.h"

#include <cmath>

#include "render_child/pdf/cff_charset.h"

namespace enconvert::render_child::pdf {
namespace {

constexpr int kUnitsPerEm = 1000;  // PDF glyph space

struct HbDrawFuncsDeleter {
    void operator()(hb_draw_funcs_t* f) const { hb_draw_funcs_destroy(f); }
};

Contours& contours_of(void* data) {
    return *static_cast<Contours*>(data);
}

void on_move_to(hb_draw_funcs_t*, void* data, hb_draw_state_t*, float x, float y, void*) {
    contours_of(data).push_back({{x, y}});
}
void on_line_to(hb_draw_funcs_t*, void* data, hb_draw_state_t*, float x, float y, void*) {
    if (!contours_of(data).empty()) contours_of(data).back().push_back({x, y});
}
void on_quadratic_to(hb_draw_funcs_t*, void* data, hb_draw_state_t*, float, float, float x, float y,
                     void*) {
    if (!contours_of(data).empty()) contours_of(data).back().push_back({x, y});
}
void on_cubic_to(hb_draw_funcs_t*, void* data, hb_draw_state_t*, float, float, float, float,
                 float x, float y, void*) {
    if (!contours_of(data).empty()) contours_of(data).back().push_back({x, y});
}

hb_draw_funcs_t* on_curve_point_funcs() {
    // Built once, immutable after.
    static const std::unique_ptr<hb_draw_funcs_t, HbDrawFuncsDeleter> funcs = [] {
        hb_draw_funcs_t* f = hb_draw_funcs_create();
        hb_draw_funcs_set_move_to_func(f, on_move_to, nullptr, nullptr);
        hb_draw_funcs_set_line_to_func(f, on_line_to, nullptr, nullptr);
        hb_draw_funcs_set_quadratic_to_func(f, on_quadratic_to, nullptr, nullptr);
        hb_draw_funcs_set_cubic_to_func(f, on_cubic_to, nullptr, nullptr);
        hb_draw_funcs_make_immutable(f);
        return std::unique_ptr<hb_draw_funcs_t, HbDrawFuncsDeleter>(f);
    }();
    return funcs.get();
}

}  // namespace

std::optional<FaceOutlines> FaceOutlines::open(std::string_view program, unsigned index) {
    HbBlobPtr blob(hb_blob_create_or_fail(program.data(), static_cast<unsigned>(program.size()),
                                          HB_MEMORY_MODE_READONLY, nullptr, nullptr));
    if (!blob || index >= hb_face_count(blob.get())) return std::nullopt;
    HbFacePtr face(hb_face_create(blob.get(), index));
    if (!face || hb_face_get_glyph_count(face.get()) == 0) return std::nullopt;
    HbFontPtr font(hb_font_create(face.get()));
    if (!font) return std::nullopt;
    hb_font_set_scale(font.get(), kUnitsPerEm, kUnitsPerEm);
    FaceOutlines outlines(std::move(face), std::move(font));
    if (!outlines.truetype() && !outlines.has_table("CFF ")) return std::nullopt;
    return outlines;
}

unsigned FaceOutlines::glyph_count() const {
    return hb_face_get_glyph_count(face_.get());
}

double FaceOutlines::advance(std::uint32_t glyph) const {
    return hb_font_get_glyph_h_advance(font_.get(), glyph);
}

void drop_closing_point(std::vector<GlyphPoint>& contour) {
    if (contour.size() > 1 && std::abs(contour.back().x - contour.front().x) < 0.01 &&
        std::abs(contour.back().y - contour.front().y) < 0.01)
        contour.pop_back();
}

Contours FaceOutlines::contours(std::uint32_t glyph) const {
    Contours out;
    hb_font_get_glyph_shape(font_.get(), glyph, on_curve_point_funcs(), &out);
    for (auto& contour : out) drop_closing_point(contour);
    return out;
}

double FaceOutlines::ascent() const {
    hb_font_extents_t extents{};
    hb_font_get_h_extents(font_.get(), &extents);
    return extents.ascender;
}

double FaceOutlines::descent() const {
    hb_font_extents_t extents{};
    hb_font_get_h_extents(font_.get(), &extents);
    return extents.descender;
}

bool FaceOutlines::truetype() const {
    return has_table("glyf");
}

bool FaceOutlines::cids_are_glyph_ids(const std::set<std::uint32_t>& glyphs) const {
    if (truetype()) return true;
    if (has_table("CFF2")) return false;  // variable: not embedded as is
    HbBlobPtr table(hb_face_reference_table(face_.get(), HB_TAG('C', 'F', 'F', ' ')));
    unsigned size = 0;
    const char* data = hb_blob_get_data(table.get(), &size);
    if (!data) return false;
    const std::optional<CffCharset> charset = read_cff_charset(std::string_view(data, size));
    if (!charset) return false;
    if (!charset->cid_keyed) return true;
    for (std::uint32_t glyph : glyphs)
        if (glyph >= charset->cid_of_glyph.size() || charset->cid_of_glyph[glyph] != glyph)
            return false;
    return true;
}

bool FaceOutlines::has_table(const char* tag) const {
    HbBlobPtr table(hb_face_reference_table(face_.get(), hb_tag_from_string(tag, 4)));
    return hb_blob_get_length(table.get()) > 0;
}

}  // namespace enconvert::render_child::pdf
