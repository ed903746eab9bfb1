// Writes a WebKit snapshot (a cairo image surface) as PNG, JPEG or WebP,
// cropped to the size cap.
#pragma once

#include <cairo.h>

#include <cstdint>
#include <string>
#include <vector>

#include "render_child/write_error.h"

namespace enconvert::render_child {

// Largest screenshot side written; WebP cannot encode more than 16383.
constexpr int kMaxImageSide = 16384;
constexpr int kMaxWebpSide = 16383;

// Screenshots taller than kMaxImageSide are captured in tiles
// (tiled_snapshot.h) up to this height: JPEG's limit (libjpeg's
// JPEG_MAX_DIMENSION); PNG takes the same so both formats keep the same page.
constexpr int kMaxTiledHeight = 65500;

// Row `row` of an ARGB32 image surface as RGB bytes in `out`, transparent
// pixels composited on white.
void argb_row_to_rgb(cairo_surface_t* surface, int row, std::vector<std::uint8_t>& out);

// Nothing failed() on success, otherwise why, and whether for want of room.
// `quality` (1..100) applies to JPEG and WebP. The file is written at
// `path` directly. The surface is only read (WebKit's snapshots lie in
// read-only memory).
WriteError write_image(cairo_surface_t* surface, const std::string& format, int quality,
                       const std::string& path);

}  // namespace enconvert::render_child
