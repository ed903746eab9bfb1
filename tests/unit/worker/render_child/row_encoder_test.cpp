#include "render_child/row_encoder.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace enconvert::render_child {
namespace {

constexpr int kWidth = 400;

// Rows of noise until the encoder fails, then what finishing says: the
// error of the first failure.
WriteError encode_noise(RowEncoder& encoder, int height) {
    std::mt19937 random(11);
    std::vector<std::uint8_t> row(kWidth * 3);
    for (int y = 0; y < height; ++y) {
        for (auto& byte : row) byte = static_cast<std::uint8_t>(random());
        if (!encoder.write_row(row.data())) return encoder.error();
    }
    return encoder.finish();
}

class RowEncoderTest : public ::testing::TestWithParam<const char*> {};

// /dev/full answers every write with ENOSPC, as a full disk does: whether
// the rows fill stdio's buffer (a write fails mid-image) or not (the final
// flush fails), the encoder says the disk was full.
TEST_P(RowEncoderTest, AFullDiskIsToldApartFromOtherFailures) {
    for (int height : {2, 400}) {
        WriteError opened;
        auto encoder = open_row_encoder(GetParam(), "/dev/full", kWidth, height, 80, opened);
        ASSERT_TRUE(encoder) << opened.message;
        const WriteError error = encode_noise(*encoder, height);
        EXPECT_TRUE(error.failed()) << height;
        EXPECT_TRUE(error.no_space) << height << ": " << error.message;
    }
}

TEST_P(RowEncoderTest, AFileThatCannotBeCreatedIsNotAFullDisk) {
    WriteError error;
    auto encoder =
        open_row_encoder(GetParam(), "/nonexistent-enconvert-dir/out.img", kWidth, 2, 80, error);
    EXPECT_FALSE(encoder);
    EXPECT_TRUE(error.failed());
    EXPECT_FALSE(error.no_space) << error.message;
}

TEST_P(RowEncoderTest, WritesEveryRow) {
    char path[] = "/tmp/enconvert-rows-XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    WriteError opened;
    auto encoder = open_row_encoder(GetParam(), path, kWidth, 50, 80, opened);
    ASSERT_TRUE(encoder) << opened.message;
    const WriteError error = encode_noise(*encoder, 50);
    std::ifstream in(path, std::ios::binary);
    const std::string data{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    unlink(path);
    EXPECT_FALSE(error.failed()) << error.message;
    ASSERT_GT(data.size(), 100u);
    if (std::string(GetParam()) == "png")
        EXPECT_EQ(data.substr(data.size() - 8, 4), "IEND");
    else
        EXPECT_EQ(data.substr(data.size() - 2), "\xFF\xD9");
}

INSTANTIATE_TEST_SUITE_P(Formats, RowEncoderTest, ::testing::Values("png", "jpeg"));

}  // namespace
}  // namespace enconvert::render_child
