#include "render_child/pdf/pdf_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "pdf_fixtures.h"
#include "storage/file_check.h"

namespace enconvert::render_child::pdf {
namespace {

namespace fs = std::filesystem;

bool complete_pdf(const std::string& path) {
    return storage::check_complete(path, "pdf").empty();
}

class PdfFileTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("enconvert-pdf-file-" + std::to_string(getpid()));
        fs::create_directories(dir_);
        path_ = (dir_ / "doc.pdf").string();
        testing::write_cairo_pdf(path_, 2, [](cairo_t* cr, int) {
            testing::draw_text(cr, 72, 100, "Some text of the page");
        });
        doc_.setSuppressWarnings(true);
        doc_.processFile(path_.c_str());
    }
    void TearDown() override { fs::remove_all(dir_); }

    fs::path dir_;
    std::string path_;
    QPDF doc_;
};

TEST_F(PdfFileTest, ReplacesTheFileWithTheRewrite) {
    const WriteError error = write_replacing(doc_, path_);
    EXPECT_FALSE(error.failed()) << error.message;
    EXPECT_TRUE(complete_pdf(path_));
    EXPECT_FALSE(fs::exists(path_ + ".rewrite"));
}

// The rewrite's temporary file leads to /dev/full, which answers every
// write with ENOSPC as a full disk does. qpdf's own file output ignores a
// failed final flush: the small rewrite came out empty and replaced the
// PDF as if written.
TEST_F(PdfFileTest, AFullDiskFailsTheRewriteAndSaysSo) {
    const auto size = fs::file_size(path_);
    fs::create_symlink("/dev/full", path_ + ".rewrite");
    const WriteError error = write_replacing(doc_, path_);
    EXPECT_TRUE(error.failed());
    EXPECT_TRUE(error.no_space) << error.message;
    EXPECT_EQ(fs::file_size(path_), size);  // left as it was
    EXPECT_FALSE(fs::exists(fs::symlink_status(path_ + ".rewrite")));
}

TEST_F(PdfFileTest, AFailureForAnotherReasonIsNotAFullDisk) {
    fs::create_directory(path_ + ".rewrite");  // cannot be opened for writing
    const WriteError error = write_replacing(doc_, path_);
    EXPECT_TRUE(error.failed());
    EXPECT_FALSE(error.no_space) << error.message;
    EXPECT_TRUE(complete_pdf(path_));
}

}  // namespace
}  // namespace enconvert::render_child::pdf
