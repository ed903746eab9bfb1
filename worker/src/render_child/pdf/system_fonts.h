// Where an installed face lives, by its PostScript name (fontconfig).
#pragma once

#include <string>
#include <vector>

namespace enconvert::render_child::pdf {

struct SystemFace {
    std::string file;
    unsigned index = 0;  // the face's number in a collection (.ttc)
};

// The faces fontconfig lists under `postscript_name` (the name a PDF font
// descriptor carries after its subset tag), none if it is not installed.
// One name can have several files (URW ships each face as OpenType and as
// Type 1). Uses the configuration the renderer runs with (FONTCONFIG_FILE).
std::vector<SystemFace> find_system_faces(const std::string& postscript_name);

}  // namespace enconvert::render_child::pdf
