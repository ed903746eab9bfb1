// The paper sizes the API names (docs/api.md), in millimetres (portrait).
#pragma once

#include <optional>
#include <string>

namespace enconvert::render_child {

struct PaperMm {
    double width;
    double height;
};

// Case-insensitive ("a4", "Letter"); nullopt for an unknown name.
std::optional<PaperMm> paper_size(const std::string& name);

}  // namespace enconvert::render_child
