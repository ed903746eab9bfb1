#include "render_child/image_writer.h"

#include <jpeglib.h>
#include <webp/encode.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>

namespace enconvert::render_child {
namespace {

using SurfacePtr = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using FilePtr = std::unique_ptr<FILE, decltype(&std::fclose)>;

std::string write_jpeg(cairo_surface_t* surface, int quality, const std::string& path) {
    FilePtr file(std::fopen(path.c_str(), "wb"), &std::fclose);
    if (!file) return "cannot create the output file";
    jpeg_compress_struct cinfo{};
    jpeg_error_mgr jerr{};
    cinfo.err = jpeg_std_error(&jerr);
    // libjpeg's default error handler exits the process; turn errors into an
    // exception that unwinds through this function only.
    struct JpegError {};
    jerr.error_exit = [](j_common_ptr) { throw JpegError{}; };
    try {
        jpeg_create_compress(&cinfo);
        jpeg_stdio_dest(&cinfo, file.get());
        cinfo.image_width = static_cast<JDIMENSION>(cairo_image_surface_get_width(surface));
        cinfo.image_height = static_cast<JDIMENSION>(cairo_image_surface_get_height(surface));
        cinfo.input_components = 3;
        cinfo.in_color_space = JCS_RGB;
        jpeg_set_defaults(&cinfo);
        jpeg_set_quality(&cinfo, quality, TRUE);
        jpeg_start_compress(&cinfo, TRUE);
        std::vector<std::uint8_t> row;
        while (cinfo.next_scanline < cinfo.image_height) {
            argb_row_to_rgb(surface, static_cast<int>(cinfo.next_scanline), row);
            JSAMPROW rows[1] = {row.data()};
            jpeg_write_scanlines(&cinfo, rows, 1);
        }
        jpeg_finish_compress(&cinfo);
        jpeg_destroy_compress(&cinfo);
    } catch (const JpegError&) {
        char message[JMSG_LENGTH_MAX];
        (*cinfo.err->format_message)(reinterpret_cast<j_common_ptr>(&cinfo), message);
        jpeg_destroy_compress(&cinfo);
        return std::string("JPEG encoding failed: ") + message;
    }
    if (std::fflush(file.get()) != 0) return "cannot write the output file";
    return {};
}

std::string write_webp(cairo_surface_t* surface, int quality, const std::string& path) {
    const int width = cairo_image_surface_get_width(surface);
    const int height = cairo_image_surface_get_height(surface);
    std::vector<std::uint8_t> rgb(static_cast<std::size_t>(width) * 3 * height);
    std::vector<std::uint8_t> row;
    for (int y = 0; y < height; ++y) {
        argb_row_to_rgb(surface, y, row);
        std::copy(row.begin(), row.end(), rgb.begin() + static_cast<std::ptrdiff_t>(y) * width * 3);
    }
    std::uint8_t* encoded = nullptr;
    const std::size_t size =
        WebPEncodeRGB(rgb.data(), width, height, width * 3, static_cast<float>(quality), &encoded);
    std::unique_ptr<std::uint8_t, decltype(&WebPFree)> owned(encoded, &WebPFree);
    if (size == 0) return "WebP encoding failed";
    FilePtr file(std::fopen(path.c_str(), "wb"), &std::fclose);
    if (!file || std::fwrite(encoded, 1, size, file.get()) != size || std::fflush(file.get()) != 0)
        return "cannot write the output file";
    return {};
}

}  // namespace

// Cairo's ARGB32 is premultiplied, native-endian; pages are opaque, but a
// transparent page is composited on white as browsers show it.
void argb_row_to_rgb(cairo_surface_t* surface, int row, std::vector<std::uint8_t>& out) {
    const int width = cairo_image_surface_get_width(surface);
    const auto* pixels = reinterpret_cast<const std::uint32_t*>(
        cairo_image_surface_get_data(surface) + row * cairo_image_surface_get_stride(surface));
    out.resize(static_cast<std::size_t>(width) * 3);
    for (int x = 0; x < width; ++x) {
        const std::uint32_t p = pixels[x];
        const std::uint32_t a = p >> 24;
        const std::uint32_t white = 255 - a;  // premultiplied: add the white behind
        out[x * 3 + 0] = static_cast<std::uint8_t>(((p >> 16) & 0xFF) + white);
        out[x * 3 + 1] = static_cast<std::uint8_t>(((p >> 8) & 0xFF) + white);
        out[x * 3 + 2] = static_cast<std::uint8_t>((p & 0xFF) + white);
    }
}

std::string write_image(cairo_surface_t* surface, const std::string& format, int quality,
                        const std::string& path) {
    if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS ||
        cairo_surface_get_type(surface) != CAIRO_SURFACE_TYPE_IMAGE)
        return "the snapshot is not an image";
    const int cap = format == "webp" ? kMaxWebpSide : kMaxImageSide;
    const int width = cairo_image_surface_get_width(surface);
    const int height = cairo_image_surface_get_height(surface);
    SurfacePtr owned(nullptr, &cairo_surface_destroy);
    if (width > cap || height > cap) {
        // Crop (top-left kept): beyond this a screenshot is unusable and
        // costly to encode; docs/rendering.md states the cap.
        owned.reset(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, std::min(width, cap),
                                               std::min(height, cap)));
        cairo_t* cr = cairo_create(owned.get());
        cairo_set_source_surface(cr, surface, 0, 0);
        cairo_paint(cr);
        cairo_destroy(cr);
        surface = owned.get();
    }
    cairo_surface_flush(surface);
    if (format == "jpeg") return write_jpeg(surface, quality, path);
    if (format == "webp") return write_webp(surface, quality, path);
    const cairo_status_t status = cairo_surface_write_to_png(surface, path.c_str());
    return status == CAIRO_STATUS_SUCCESS ? std::string() : cairo_status_to_string(status);
}

}  // namespace enconvert::render_child
