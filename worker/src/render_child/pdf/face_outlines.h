// A font face read with HarfBuzz for comparison with glyphs a PDF draws
// as paths: outline start points, advances and vertical metrics, all in
// 1/1000 em with y up (PDF glyph space).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "render_child/pdf/hb_ptr.h"

namespace enconvert::render_child::pdf {

struct GlyphPoint {
    double x = 0;
    double y = 0;
};

// A glyph's contours, each as its on-curve points: where it starts and
// where each segment ends, without a closing segment's return to the
// start. Control points are left out: a renderer may turn a quadratic
// curve into a cubic one, which moves them but no on-curve point.
using Contours = std::vector<std::vector<GlyphPoint>>;

// Drops a last point that returns to the contour's start (an explicit
// closing segment), so contours from different writers compare alike.
void drop_closing_point(std::vector<GlyphPoint>& contour);

class FaceOutlines {
  public:
    // nullopt if `program` (which must outlive the object) has no face
    // `index` with outlines HarfBuzz can read.
    static std::optional<FaceOutlines> open(std::string_view program, unsigned index);

    unsigned glyph_count() const;
    double advance(std::uint32_t glyph) const;
    Contours contours(std::uint32_t glyph) const;
    double ascent() const;
    double descent() const;  // negative below the baseline

    bool truetype() const;  // 'glyf' outlines (else CFF)
    // Whether a PDF font around this program selects `glyphs` by their
    // glyph ids: TrueType and name-keyed CFF always do, CID-keyed CFF
    // selects by CID, so only where its charset gives each glyph its own
    // id as CID (Noto CJK does).
    bool cids_are_glyph_ids(const std::set<std::uint32_t>& glyphs) const;

  private:
    FaceOutlines(HbFacePtr face, HbFontPtr font) : face_(std::move(face)), font_(std::move(font)) {}
    bool has_table(const char* tag) const;

    HbFacePtr face_;
    HbFontPtr font_;
};

}  // namespace enconvert::render_child::pdf
