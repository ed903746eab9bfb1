#include "render_child/binary_dir.h"

#include <glib.h>

#include "render_child/glib_ptr.h"

namespace enconvert::render_child {

std::string binary_dir() {
    GCharPtr exe(g_file_read_link("/proc/self/exe", nullptr));
    if (!exe) return {};
    GCharPtr dir(g_path_get_dirname(exe.get()));
    return dir.get();
}

}  // namespace enconvert::render_child
