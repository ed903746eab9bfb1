#include "render/renderer_environment.h"

#include <algorithm>
#include <array>

namespace enconvert::render {

namespace {

// Names passed whole.
constexpr std::array<std::string_view, 16> kNames{"PATH",
                                                  "HOME",
                                                  "USER",
                                                  "LOGNAME",
                                                  "LANG",
                                                  "LANGUAGE",
                                                  "TZ",
                                                  "TZDIR",
                                                  "TMPDIR",
                                                  "DISPLAY",
                                                  "XAUTHORITY",
                                                  "CACHE_DIRECTORY",
                                                  "FONTCONFIG_FILE",
                                                  "FONTCONFIG_PATH",
                                                  "LD_LIBRARY_PATH",
                                                  "ENCONVERT_LOG_LEVEL"};

// Families read by the libraries the renderer is made of: locale
// categories, XDG directories, GLib/GIO/GTK/GDK debugging and settings,
// WebKit's and JavaScriptCore's switches, GStreamer, Mesa, and the
// sanitizers' options (make sanitize).
constexpr std::array<std::string_view, 15> kPrefixes{
    "LC_",  "XDG_", "G_",     "GIO_",  "GSETTINGS_", "GDK_",   "GTK_", "WEBKIT_",
    "JSC_", "GST_", "LIBGL_", "MESA_", "ASAN_",      "UBSAN_", "LSAN_"};

}  // namespace

bool passes_to_renderer(std::string_view name) {
    if (std::find(kNames.begin(), kNames.end(), name) != kNames.end()) return true;
    return std::any_of(kPrefixes.begin(), kPrefixes.end(), [name](std::string_view prefix) {
        return name.size() > prefix.size() && name.substr(0, prefix.size()) == prefix;
    });
}

Environment renderer_environment(const char* const* parent, const Environment& own) {
    Environment env;
    for (const char* const* entry = parent; entry && *entry; ++entry) {
        const std::string_view line(*entry);
        const std::size_t equals = line.find('=');
        if (equals == std::string_view::npos || equals == 0) continue;
        const std::string_view name = line.substr(0, equals);
        if (!passes_to_renderer(name)) continue;
        const bool overridden = std::any_of(own.begin(), own.end(),
                                            [name](const auto& set) { return set.first == name; });
        if (!overridden) env.emplace_back(name, line.substr(equals + 1));
    }
    env.insert(env.end(), own.begin(), own.end());
    return env;
}

}  // namespace enconvert::render
