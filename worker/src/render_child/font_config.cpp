#include "render_child/font_config.h"

#include <glib.h>
#include <stdlib.h>
#include <unistd.h>

#include "render_child/glib_ptr.h"

namespace enconvert::render_child {

std::string use_shipped_font_config() {
    if (const char* own = getenv("FONTCONFIG_FILE"); own && *own) return own;
    GCharPtr exe(g_file_read_link("/proc/self/exe", nullptr));
    if (!exe) return {};
    GCharPtr dir(g_path_get_dirname(exe.get()));
    GCharPtr conf(g_build_filename(dir.get(), "fonts.conf", nullptr));
    if (access(conf.get(), R_OK) != 0) return {};
    setenv("FONTCONFIG_FILE", conf.get(), 1);
    return conf.get();
}

}  // namespace enconvert::render_child
