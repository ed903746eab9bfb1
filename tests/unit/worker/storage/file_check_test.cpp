#include "storage/file_check.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

using enconvert::storage::check_complete;
namespace fs = std::filesystem;

namespace {

class FileCheckTest : public ::testing::Test {
  protected:
    void TearDown() override { fs::remove(path_); }

    const fs::path& write(const std::string& bytes) {
        std::ofstream(path_, std::ios::binary) << bytes;
        return path_;
    }

    fs::path path_ =
        fs::temp_directory_path() / ("enconvert-file-check-" + std::to_string(getpid()));
};

const std::string kPngEnd("\0\0\0\0IEND\xae\x42\x60\x82", 12);
const std::string kPng = std::string("\x89PNG\r\n\x1a\n", 8) + "IHDR and pixels" + kPngEnd;

std::string webp(std::size_t payload, std::uint32_t declared) {
    std::string s = "RIFF";
    for (int i = 0; i < 4; ++i) s += static_cast<char>((declared >> (8 * i)) & 0xFF);
    s += "WEBP";
    s += std::string(payload, 'x');
    return s;
}

}  // namespace

TEST_F(FileCheckTest, CompleteFilesPass) {
    EXPECT_EQ(check_complete(write("%PDF-1.7\nbody\n%%EOF\n"), "pdf"), "");
    EXPECT_EQ(check_complete(write("%PDF-1.4\nbody\n%%EOF"), "pdf"), "");
    EXPECT_EQ(check_complete(write(kPng), "png"), "");
    EXPECT_EQ(check_complete(write("\xff\xd8\xff\xe0...\xff\xd9"), "jpeg"), "");
    EXPECT_EQ(check_complete(write(webp(10, 14)), "webp"), "");
}

TEST_F(FileCheckTest, EmptyAndMissingFilesFail) {
    EXPECT_EQ(check_complete(write(""), "pdf"), "empty file");
    EXPECT_EQ(check_complete(path_.string() + ".missing", "pdf"), "cannot be read");
}

TEST_F(FileCheckTest, TruncatedFilesFail) {
    EXPECT_EQ(check_complete(write("%PDF-1.7\nbody\n%%EO"), "pdf"), "no end-of-file marker");
    EXPECT_EQ(check_complete(write(kPng.substr(0, kPng.size() - 1)), "png"), "no end chunk");
    EXPECT_EQ(check_complete(write("\xff\xd8\xff\xe0..."), "jpeg"), "no end marker");
    EXPECT_EQ(check_complete(write(webp(10, 400)), "webp"), "length does not match");
}

TEST_F(FileCheckTest, WrongFormatFails) {
    EXPECT_EQ(check_complete(write(kPng), "pdf"), "not a PDF");
    EXPECT_EQ(check_complete(write("%PDF-1.7\n%%EOF"), "png"), "not a PNG");
    EXPECT_EQ(check_complete(write("%PDF-1.7\n%%EOF"), "jpeg"), "not a JPEG");
    EXPECT_EQ(check_complete(write("RIFF"), "webp"), "not a WebP");
}
