// The renderer's fontconfig configuration (fonts.conf beside the binary):
// which fonts pages get for the classic family names.
#pragma once

#include <string>

namespace enconvert::render_child {

// Points FONTCONFIG_FILE at the fonts.conf installed beside this
// executable, before GTK starts and before any web process is spawned
// (they inherit the environment). An operator's own FONTCONFIG_FILE wins.
// Returns the file in use, empty when the system's default applies.
std::string use_shipped_font_config();

}  // namespace enconvert::render_child
