#include "render_child/font_config.h"

#include <glib.h>
#include <stdlib.h>
#include <unistd.h>

#include "render_child/binary_dir.h"
#include "render_child/glib_ptr.h"

namespace enconvert::render_child {

std::string use_shipped_font_config() {
    if (const char* own = getenv("FONTCONFIG_FILE"); own && *own) return own;
    const std::string dir = binary_dir();
    if (dir.empty()) return {};
    GCharPtr conf(g_build_filename(dir.c_str(), "fonts.conf", nullptr));
    if (access(conf.get(), R_OK) != 0) return {};
    setenv("FONTCONFIG_FILE", conf.get(), 1);
    return conf.get();
}

}  // namespace enconvert::render_child
