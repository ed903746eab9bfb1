#include "render_child/pdf/mapped_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <qpdf/QPDFPageDocumentHelper.hh>
#include <stdexcept>

#include "pdf_fixtures.h"
#include "render_child/pdf/page_text.h"
#include "render_child/pdf/pdf_file.h"
#include "render_child/pdf/poppler_document.h"
#include "render_child/pdf/postprocess.h"
#include "storage/file_check.h"

namespace enconvert::render_child::pdf {
namespace {

namespace fs = std::filesystem;

class MappedFileTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("enconvert-mapped-file-" + std::to_string(getpid()));
        fs::create_directories(dir_);
        path_ = (dir_ / "doc.pdf").string();
        testing::write_cairo_pdf(path_, 2, [](cairo_t* cr, int page) {
            testing::draw_text(cr, 72, 100, "Mapped page " + std::to_string(page + 1));
        });
    }
    void TearDown() override { fs::remove_all(dir_); }

    fs::path dir_;
    std::string path_;
};

TEST_F(MappedFileTest, HoldsTheWholeFile) {
    const MappedFile file(path_);
    const std::string bytes = test_support::read_file(path_);
    ASSERT_EQ(file.size(), bytes.size());
    EXPECT_EQ(std::string(file.data(), file.size()), bytes);
}

// qpdf reads streams from the mapping up to the write, and the rewrite is
// renamed over the path it was read from: the mapping, not the path, is
// what it reads.
TEST_F(MappedFileTest, QpdfReadsTheMappingEvenOnceTheFileIsGone) {
    MappedPdf pdf(path_);
    fs::remove(path_);
    EXPECT_FALSE(write_replacing(pdf.doc(), path_).failed());
    EXPECT_TRUE(storage::check_complete(path_, "pdf").empty());
    QPDF again;
    again.processFile(path_.c_str());
    EXPECT_EQ(QPDFPageDocumentHelper(again).getAllPages().size(), 2u);
}

TEST_F(MappedFileTest, AMissingFileIsAnErrorNamingIt) {
    try {
        MappedFile file((dir_ / "absent.pdf").string());
        FAIL() << "mapped a missing file";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("absent.pdf"), std::string::npos) << e.what();
    }
}

TEST_F(MappedFileTest, AnEmptyFileIsNoPdf) {
    const std::string empty = (dir_ / "empty.pdf").string();
    std::ofstream{empty};
    const MappedFile file(empty);
    EXPECT_EQ(file.size(), 0u);
    EXPECT_ANY_THROW(MappedPdf{empty});
    EXPECT_EQ(page_count(empty), 0);
    std::string why;
    EXPECT_EQ(open_poppler_document(empty, &why), nullptr);
    EXPECT_FALSE(why.empty());
}

// The document keeps its own reference to the mapping.
TEST_F(MappedFileTest, APopplerDocumentOutlivesItsFile) {
    std::string why;
    GObjectPtr<PopplerDocument> doc = open_poppler_document(path_, &why);
    ASSERT_NE(doc, nullptr) << why;
    fs::remove(path_);
    ASSERT_EQ(poppler_document_get_n_pages(doc.get()), 2);
    GObjectPtr<PopplerPage> page(poppler_document_get_page(doc.get(), 1));
    GCharPtr text(poppler_page_get_text(page.get()));
    EXPECT_STREQ(text.get(), "Mapped page 2");
}

TEST_F(MappedFileTest, AMissingFileOpensNoPopplerDocument) {
    std::string why;
    EXPECT_EQ(open_poppler_document((dir_ / "absent.pdf").string(), &why), nullptr);
    EXPECT_NE(why.find("absent.pdf"), std::string::npos) << why;
    EXPECT_TRUE(read_page_text((dir_ / "absent.pdf").string(), &why).glyphs.empty());
}

}  // namespace
}  // namespace enconvert::render_child::pdf
