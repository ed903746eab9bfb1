// Writes a WebKit snapshot (a cairo image surface) as PNG, JPEG or WebP,
// cropped to the size cap.
#pragma once

#include <cairo.h>

#include <string>

namespace enconvert::render_child {

// Largest screenshot side written; WebP cannot encode more than 16383.
constexpr int kMaxImageSide = 16384;
constexpr int kMaxWebpSide = 16383;

// Returns an empty string on success, otherwise why it failed. `quality`
// (1..100) applies to JPEG and WebP. The file is written at `path` directly.
std::string write_image(cairo_surface_t* surface, const std::string& format, int quality,
                        const std::string& path);

}  // namespace enconvert::render_child
