#include "render_child/link_layout.h"

#include <cmath>

namespace enconvert::render_child {

std::vector<pdf::LinkArea> place_links(const nlohmann::json& facts, const PdfOptions& pdf,
                                       double page_height_mm) {
    constexpr double kPtPerMm = 72.0 / 25.4;
    constexpr double kPtPerCssPx = 72.0 / 96.0;
    const double px_to_pt = kPtPerCssPx * pdf.scale;
    const double printable_h_pt =
        (page_height_mm - pdf.margin_top_mm - pdf.margin_bottom_mm) * kPtPerMm;
    const double page_h_pt = page_height_mm * kPtPerMm;
    const double left_pt = pdf.margin_left_mm * kPtPerMm;
    const double top_pt = pdf.margin_top_mm * kPtPerMm;

    std::vector<pdf::LinkArea> out;
    auto links = facts.find("links");
    if (links == facts.end() || !links->is_array()) return out;
    for (const auto& l : *links) {
        if (!l.is_object() || !l.value("href", nlohmann::json()).is_string()) continue;
        const double x = l.value("x", 0.0) * px_to_pt, y = l.value("y", 0.0) * px_to_pt;
        const double w = l.value("w", 0.0) * px_to_pt, h = l.value("h", 0.0) * px_to_pt;
        if (!(w > 0 && h > 0) || !std::isfinite(x) || !std::isfinite(y) || y < 0) continue;
        const int page = static_cast<int>(std::floor(y / printable_h_pt));
        const double y_on_page = y - page * printable_h_pt;
        pdf::LinkArea area;
        area.page = page;
        area.uri = l["href"].get<std::string>();
        area.x0 = left_pt + x;
        area.x1 = left_pt + x + w;
        // PDF's origin is the bottom-left corner.
        area.y1 = page_h_pt - top_pt - y_on_page;
        area.y0 = area.y1 - h;
        out.push_back(std::move(area));
    }
    return out;
}

}  // namespace enconvert::render_child
