#include "util/utf8.h"

#include <glib.h>

#include <memory>

namespace enconvert::util {

std::string valid_utf8(std::string_view text) {
    if (g_utf8_validate(text.data(), static_cast<gssize>(text.size()), nullptr)) {
        return std::string(text);  // no NUL either: g_utf8_validate refuses one
    }
    // g_utf8_make_valid keeps a NUL byte as it is: replaced first.
    std::string without_nul;
    without_nul.reserve(text.size());
    for (const char c : text) {
        if (c == '\0')
            without_nul += "\xEF\xBF\xBD";
        else
            without_nul += c;
    }
    const std::unique_ptr<gchar, decltype(&g_free)> fixed(
        g_utf8_make_valid(without_nul.data(), static_cast<gssize>(without_nul.size())), g_free);
    return std::string(fixed.get());
}

}  // namespace enconvert::util
