// Where this renderer binary lives: its fonts.conf, web process extension
// and ad list are installed beside it (in the build tree as once installed).
#pragma once

#include <string>

namespace enconvert::render_child {

// The directory of /proc/self/exe; empty when it cannot be read.
std::string binary_dir();

}  // namespace enconvert::render_child
