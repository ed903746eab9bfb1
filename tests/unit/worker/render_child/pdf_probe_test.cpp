#include "render_child/pdf_probe.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "../../support/pdf_bomb.h"

namespace enconvert::render_child {
namespace {

namespace fs = std::filesystem;

class PdfProbeTest : public ::testing::Test {
  protected:
    void TearDown() override { fs::remove(path_); }
    const std::string& write(const std::string& bytes) {
        std::ofstream(path_, std::ios::binary) << bytes;
        return path_;
    }
    std::string path_ =
        (fs::temp_directory_path() / ("enconvert-pdf-probe-" + std::to_string(getpid()) + ".pdf"))
            .string();
};

TEST_F(PdfProbeTest, CountsThePagesOfAPdf) {
    // The bomb's layout with almost nothing to inflate: a readable PDF.
    EXPECT_EQ(count_pdf_pages_in_probe(ENCONVERT_RENDER_BINARY, write(testing::pdf_bomb(1))), 1);
}

TEST_F(PdfProbeTest, WhatIsNotAPdfHasNoPages) {
    EXPECT_EQ(count_pdf_pages_in_probe(ENCONVERT_RENDER_BINARY, write("not a PDF at all")), 0);
    EXPECT_EQ(count_pdf_pages_in_probe(ENCONVERT_RENDER_BINARY, path_ + ".missing"), 0);
    EXPECT_EQ(count_pdf_pages_in_probe("/nonexistent/enconvert-render", write("%PDF-1.4")), 0);
}

// A megabyte that inflates past the probe's memory limit: the probe gives
// up (no pages), and the caller's process never holds the inflated bytes.
TEST_F(PdfProbeTest, APdfThatInflatesPastTheLimitIsUnreadable) {
    const std::size_t mib = (kProbeDataLimitBytes >> 20) + 128;
    const std::string bomb = testing::pdf_bomb(mib);
    ASSERT_LT(bomb.size(), 2u << 20);
    EXPECT_EQ(count_pdf_pages_in_probe(ENCONVERT_RENDER_BINARY, write(bomb)), 0);
}

}  // namespace
}  // namespace enconvert::render_child
