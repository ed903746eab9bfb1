#include "render_child/page_sizes.h"

#include <algorithm>
#include <array>
#include <utility>

#include "util/ascii.h"

namespace enconvert::render_child {

std::optional<PaperMm> paper_size(const std::string& name) {
    // ISO 216 A and B series; North American sizes as Chromium defines them
    // (Ledger is Tabloid turned sideways).
    static constexpr std::array<std::pair<const char*, PaperMm>, 17> kSizes{{
        {"a0", {841, 1189}},
        {"a1", {594, 841}},
        {"a2", {420, 594}},
        {"a3", {297, 420}},
        {"a4", {210, 297}},
        {"a5", {148, 210}},
        {"a6", {105, 148}},
        {"b0", {1000, 1414}},
        {"b1", {707, 1000}},
        {"b2", {500, 707}},
        {"b3", {353, 500}},
        {"b4", {250, 353}},
        {"b5", {176, 250}},
        {"letter", {215.9, 279.4}},
        {"legal", {215.9, 355.6}},
        {"tabloid", {279.4, 431.8}},
        {"ledger", {431.8, 279.4}},
    }};
    const std::string key = util::ascii_lower(name);
    for (const auto& [n, size] : kSizes)
        if (key == n) return size;
    return std::nullopt;
}

}  // namespace enconvert::render_child
