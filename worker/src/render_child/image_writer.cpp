#include "render_child/image_writer.h"

#include <webp/encode.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "render_child/row_encoder.h"

namespace enconvert::render_child {
namespace {

using SurfacePtr = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using FilePtr = std::unique_ptr<FILE, decltype(&std::fclose)>;

// Each writer records errno where a write fails, before anything else can
// change it: a full disk is told apart from other failures by it.

// JPEGs go through the row encoder, as tiled ones do: libjpeg's errors
// come back by longjmp there, not by an exception thrown through its C
// frames.
WriteError write_jpeg(cairo_surface_t* surface, int quality, const std::string& path) {
    const int height = cairo_image_surface_get_height(surface);
    WriteError error;
    const std::unique_ptr<RowEncoder> encoder = open_row_encoder(
        "jpeg", path, cairo_image_surface_get_width(surface), height, quality, error);
    if (!encoder) return error;
    std::vector<std::uint8_t> row;
    for (int y = 0; y < height; ++y) {
        argb_row_to_rgb(surface, y, row);
        if (!encoder->write_row(row.data())) return encoder->error();
    }
    return encoder->finish();
}

// libwebp writes the encoded file through this, chunk by chunk.
struct WebpSink {
    FILE* file;
    int err = 0;

    static int write(const std::uint8_t* data, std::size_t size, const WebPPicture* picture) {
        auto* self = static_cast<WebpSink*>(picture->custom_ptr);
        if (size == 0 || std::fwrite(data, 1, size, self->file) == size) return 1;
        self->err = errno;
        return 0;
    }
};

bool fully_opaque(cairo_surface_t* surface) {
    const int width = cairo_image_surface_get_width(surface);
    const int height = cairo_image_surface_get_height(surface);
    const int stride = cairo_image_surface_get_stride(surface);
    const unsigned char* data = cairo_image_surface_get_data(surface);
    for (int y = 0; y < height; ++y) {
        const auto* pixels =
            reinterpret_cast<const std::uint32_t*>(data + static_cast<std::size_t>(y) * stride);
        for (int x = 0; x < width; ++x)
            if ((pixels[x] >> 24) != 0xFF) return false;
    }
    return true;
}

// An opaque surface (what WebKit's snapshots are) is handed to libwebp as
// BGRX where it lies: an RGB copy of a 16383 x 16383 page was 800 MB more
// at the child's peak. The surface is not written to (a snapshot's pixels
// are WebKit's read-only shared memory); one with transparency goes through
// RGB rows composited on white, as the other formats do.
WriteError write_webp(cairo_surface_t* surface, int quality, const std::string& path) {
    const int width = cairo_image_surface_get_width(surface);
    const int height = cairo_image_surface_get_height(surface);
    WebPConfig config;
    WebPPicture picture;
    if (!WebPConfigPreset(&config, WEBP_PRESET_DEFAULT, static_cast<float>(quality)) ||
        !WebPPictureInit(&picture))
        return {"WebP encoding failed: libwebp version mismatch"};
    const std::unique_ptr<WebPPicture, decltype(&WebPPictureFree)> owned(&picture,
                                                                         &WebPPictureFree);
    picture.width = width;
    picture.height = height;
    bool imported = false;
    if (fully_opaque(surface)) {
        // Little-endian ARGB32 lies in memory as B, G, R, A.
        imported = WebPPictureImportBGRX(&picture, cairo_image_surface_get_data(surface),
                                         cairo_image_surface_get_stride(surface));
    } else {
        std::vector<std::uint8_t> rgb(static_cast<std::size_t>(width) * 3 * height);
        std::vector<std::uint8_t> row;
        for (int y = 0; y < height; ++y) {
            argb_row_to_rgb(surface, y, row);
            std::copy(row.begin(), row.end(),
                      rgb.begin() + static_cast<std::ptrdiff_t>(y) * width * 3);
        }
        imported = WebPPictureImportRGB(&picture, rgb.data(), width * 3);
    }
    if (!imported) return {"WebP encoding failed: out of memory"};
    FilePtr file(std::fopen(path.c_str(), "wb"), &std::fclose);
    if (!file) return write_error_from_errno("cannot create the output file", errno);
    WebpSink sink{file.get()};
    picture.writer = &WebpSink::write;
    picture.custom_ptr = &sink;
    const int encoded = WebPEncode(&config, &picture);
    if (sink.err != 0) return write_error_from_errno("cannot write the output file", sink.err);
    if (!encoded)
        return {"WebP encoding failed (libwebp error " +
                std::to_string(static_cast<int>(picture.error_code)) + ")"};
    return close_written_file(file.release());
}

// cairo's own file writer keeps no errno: PNGs go through this one.
struct PngSink {
    FILE* file;
    int err = 0;

    static cairo_status_t write(void* closure, const unsigned char* data, unsigned int length) {
        auto* self = static_cast<PngSink*>(closure);
        if (std::fwrite(data, 1, length, self->file) == length) return CAIRO_STATUS_SUCCESS;
        self->err = errno;
        return CAIRO_STATUS_WRITE_ERROR;
    }
};

WriteError write_png(cairo_surface_t* surface, const std::string& path) {
    FilePtr file(std::fopen(path.c_str(), "wb"), &std::fclose);
    if (!file) return write_error_from_errno("cannot create the output file", errno);
    PngSink sink{file.get()};
    const cairo_status_t status =
        cairo_surface_write_to_png_stream(surface, &PngSink::write, &sink);
    if (sink.err != 0) return write_error_from_errno("cannot write the output file", sink.err);
    if (status != CAIRO_STATUS_SUCCESS) return {cairo_status_to_string(status)};
    return close_written_file(file.release());
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

WriteError write_image(cairo_surface_t* surface, const std::string& format, int quality,
                       const std::string& path) {
    if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS ||
        cairo_surface_get_type(surface) != CAIRO_SURFACE_TYPE_IMAGE)
        return {"the snapshot is not an image"};
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
    return write_png(surface, path);
}

}  // namespace enconvert::render_child
