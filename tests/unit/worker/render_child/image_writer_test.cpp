#include "render_child/image_writer.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>
#include <webp/encode.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace enconvert::render_child {
namespace {

using SurfacePtr = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;

// Noise does not compress: a `side` x `side` image is about side² * 3 bytes
// in any format, so a large one fails in the middle of writing, a small
// one only when the file is flushed.
SurfacePtr noise_image(int side) {
    SurfacePtr surface(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, side, side),
                       &cairo_surface_destroy);
    std::mt19937 random(7);
    unsigned char* data = cairo_image_surface_get_data(surface.get());
    const int stride = cairo_image_surface_get_stride(surface.get());
    for (int y = 0; y < side; ++y)
        for (int x = 0; x < side; ++x)
            reinterpret_cast<std::uint32_t*>(data + y * stride)[x] = random() | 0xFF000000u;
    cairo_surface_mark_dirty(surface.get());
    return surface;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class ImageWriterTest : public ::testing::TestWithParam<const char*> {};

// /dev/full answers every write with ENOSPC, as a full disk does.
TEST_P(ImageWriterTest, AFullDiskIsToldApartFromOtherFailures) {
    for (int side : {16, 600}) {
        SurfacePtr image = noise_image(side);
        const WriteError error = write_image(image.get(), GetParam(), 80, "/dev/full");
        EXPECT_TRUE(error.failed()) << side;
        EXPECT_TRUE(error.no_space) << side << ": " << error.message;
    }
}

TEST_P(ImageWriterTest, AFailureForAnotherReasonIsNotAFullDisk) {
    SurfacePtr image = noise_image(16);
    const WriteError error =
        write_image(image.get(), GetParam(), 80, "/nonexistent-enconvert-dir/out.img");
    EXPECT_TRUE(error.failed());
    EXPECT_FALSE(error.no_space) << error.message;
    EXPECT_NE(error.message.find("No such file or directory"), std::string::npos) << error.message;
}

TEST_P(ImageWriterTest, WritesTheWholeImage) {
    char path[] = "/tmp/enconvert-image-XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    SurfacePtr image = noise_image(64);
    const WriteError error = write_image(image.get(), GetParam(), 80, path);
    const std::string data = read_file(path);
    unlink(path);
    EXPECT_FALSE(error.failed()) << error.message;
    EXPECT_FALSE(error.no_space);
    const std::string format = GetParam();
    if (format == "png") {
        EXPECT_EQ(data.substr(1, 3), "PNG");
        EXPECT_EQ(data.substr(data.size() - 8, 4), "IEND");
    } else if (format == "jpeg") {
        EXPECT_EQ(data.substr(0, 2), "\xFF\xD8");
        EXPECT_EQ(data.substr(data.size() - 2), "\xFF\xD9");
    } else {
        EXPECT_EQ(data.substr(0, 4), "RIFF");
        EXPECT_EQ(data.substr(8, 4), "WEBP");
    }
}

INSTANTIATE_TEST_SUITE_P(Formats, ImageWriterTest, ::testing::Values("png", "jpeg", "webp"));

}  // namespace
}  // namespace enconvert::render_child

namespace enconvert::render_child {
namespace {

// What libwebp's simple API makes of the RGB rows the other formats write
// (transparent pixels composited on white).
std::string webp_of_rgb_rows(cairo_surface_t* image, int quality) {
    const int width = cairo_image_surface_get_width(image);
    const int height = cairo_image_surface_get_height(image);
    std::vector<std::uint8_t> rgb, row;
    for (int y = 0; y < height; ++y) {
        argb_row_to_rgb(image, y, row);
        rgb.insert(rgb.end(), row.begin(), row.end());
    }
    std::uint8_t* encoded = nullptr;
    const std::size_t size =
        WebPEncodeRGB(rgb.data(), width, height, width * 3, static_cast<float>(quality), &encoded);
    std::string out(reinterpret_cast<const char*>(encoded), size);
    WebPFree(encoded);
    return out;
}

std::string write_to_temp(cairo_surface_t* image, const char* format, WriteError& error) {
    char path[] = "/tmp/enconvert-image-XXXXXX";
    const int fd = mkstemp(path);
    if (fd < 0) return {};
    close(fd);
    error = write_image(image, format, 80, path);
    std::string data = read_file(path);
    unlink(path);
    return data;
}

// WebKit's snapshots lie in read-only shared memory: every writer only
// reads the surface, and an opaque WebP is encoded from it where it lies
// (no RGB copy of the page), to the same bytes as from RGB rows. Writing
// to the surface (made opaque in place to spare the copy) crashed the
// renderer child on every WebP screenshot.
TEST_P(ImageWriterTest, ASnapshotInReadOnlyMemoryIsOnlyRead) {
    SurfacePtr image = noise_image(64);
    const int stride = cairo_image_surface_get_stride(image.get());
    const std::size_t bytes = static_cast<std::size_t>(stride) * 64;
    void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(memory, MAP_FAILED);
    std::memcpy(memory, cairo_image_surface_get_data(image.get()), bytes);
    ASSERT_EQ(mprotect(memory, bytes, PROT_READ), 0);
    SurfacePtr snapshot(cairo_image_surface_create_for_data(static_cast<unsigned char*>(memory),
                                                            CAIRO_FORMAT_ARGB32, 64, 64, stride),
                        &cairo_surface_destroy);
    WriteError error;
    const std::string data = write_to_temp(snapshot.get(), GetParam(), error);
    EXPECT_FALSE(error.failed()) << error.message;
    if (std::string(GetParam()) == "webp") {
        EXPECT_EQ(data, webp_of_rgb_rows(snapshot.get(), 80));
    }
    snapshot.reset();
    munmap(memory, bytes);
}

// A surface with transparency: its WebP is made from the RGB rows, white
// behind the transparent pixels.
TEST(ImageWriter, AWebpIsWhatLibwebpMakesOfTheRgbRows) {
    SurfacePtr image = noise_image(48);
    unsigned char* data = cairo_image_surface_get_data(image.get());
    const int stride = cairo_image_surface_get_stride(image.get());
    for (int y = 0; y < 16; ++y)  // premultiplied: transparent, half, clear
        for (int x = 0; x < 48; ++x)
            reinterpret_cast<std::uint32_t*>(data + y * stride)[x] = x % 3 == 0   ? 0u
                                                                     : x % 3 == 1 ? 0x80402010u
                                                                                  : 0x00000000u;
    cairo_surface_mark_dirty(image.get());
    const std::string want = webp_of_rgb_rows(image.get(), 80);
    ASSERT_FALSE(want.empty());
    WriteError error;
    const std::string got = write_to_temp(image.get(), "webp", error);
    ASSERT_FALSE(error.failed()) << error.message;
    EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace enconvert::render_child
