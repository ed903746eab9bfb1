#include "render_child/image_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>

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
