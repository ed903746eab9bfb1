#include "storage/zip_archive.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "../../support/zip_read.h"
#include "storage/file_check.h"

using namespace enconvert;
namespace fs = std::filesystem;

namespace {

class ZipArchiveTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("enconvert-zip-" + std::to_string(getpid()));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    fs::path write(const std::string& name, const std::string& data) {
        const fs::path p = dir_ / name;
        std::ofstream(p, std::ios::binary) << data;
        return p;
    }

    fs::path dir_;
};

// Bytes that do not compress: a PDF's streams or a PNG's data are like it.
std::string noise(std::size_t n) {
    std::string s(n, '\0');
    std::uint32_t x = 2463534242u;
    for (auto& c : s) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        c = static_cast<char>(x);
    }
    return s;
}

}  // namespace

TEST_F(ZipArchiveTest, WritesFilesAndBytesReadBackExactly) {
    const std::string pdf = "%PDF-1.7\n" + noise(200000) + "\n%%EOF\n";
    const std::string png =
        std::string("\x89PNG\r\n\x1a\n", 8) + noise(5000) + std::string(4, '\0');
    const fs::path zip_path = dir_ / "out.zip";
    {
        storage::ZipWriter zip(zip_path);
        zip.add_file("example-com_20260101T000000Z_1.pdf", write("a.pdf", pdf));
        zip.add_file("shot.png", write("b.png", png));
        zip.add_bytes("manifest.json", "{\"failed\": []}\n");
        EXPECT_TRUE(zip.contains("shot.png"));
        EXPECT_EQ(zip.size(), 3u);
        zip.close();
    }
    const auto entries = test_support::read_zip(zip_path);
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_EQ(entries.at("example-com_20260101T000000Z_1.pdf"), pdf);
    EXPECT_EQ(entries.at("shot.png"), png);
    EXPECT_EQ(entries.at("manifest.json"), "{\"failed\": []}\n");
    // What storing checks before a ZIP is kept.
    EXPECT_EQ(storage::check_complete(zip_path, "zip"), "");
}

TEST_F(ZipArchiveTest, ATruncatedArchiveIsNotComplete) {
    const fs::path zip_path = dir_ / "out.zip";
    {
        storage::ZipWriter zip(zip_path);
        zip.add_bytes("a.txt", noise(4000));
        zip.close();
    }
    fs::resize_file(zip_path, fs::file_size(zip_path) - 30);
    EXPECT_EQ(storage::check_complete(zip_path, "zip"), "no central directory");
    EXPECT_EQ(storage::check_complete(write("x.pdf", "%PDF-1.4\n%%EOF"), "zip"), "not a ZIP");
}

TEST_F(ZipArchiveTest, RefusesDuplicateAndUnsafeNames) {
    storage::ZipWriter zip(dir_ / "out.zip");
    zip.add_bytes("a.pdf", "1");
    EXPECT_THROW(zip.add_bytes("a.pdf", "2"), storage::ZipError);
    EXPECT_THROW(zip.add_bytes("", "2"), storage::ZipError);
    EXPECT_THROW(zip.add_bytes("/etc/passwd", "2"), storage::ZipError);
    EXPECT_THROW(zip.add_bytes("../up.pdf", "2"), storage::ZipError);
    EXPECT_THROW(zip.add_bytes("a\\..\\b", "2"), storage::ZipError);
    zip.close();
    EXPECT_EQ(test_support::read_zip(dir_ / "out.zip").size(), 1u);
}

TEST_F(ZipArchiveTest, NothingIsLeftWithoutClose) {
    {
        storage::ZipWriter zip(dir_ / "out.zip");
        zip.add_bytes("a.pdf", "1");
    }
    EXPECT_FALSE(fs::exists(dir_ / "out.zip"));
    EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 0);
}

TEST_F(ZipArchiveTest, AnEmptyArchiveIsRefused) {
    storage::ZipWriter zip(dir_ / "out.zip");
    EXPECT_THROW(zip.close(), storage::ZipError);
    EXPECT_FALSE(fs::exists(dir_ / "out.zip"));
    EXPECT_THROW(zip.add_bytes("late.txt", "x"), storage::ZipError);  // finished
}

TEST_F(ZipArchiveTest, FailuresAreZipErrorsWithoutAPath) {
    // A source file gone before the archive is written.
    const fs::path gone = write("gone.pdf", "%PDF-1.4\n%%EOF");
    {
        storage::ZipWriter zip(dir_ / "out.zip");
        zip.add_file("gone.pdf", gone);
        fs::remove(gone);
        try {
            zip.close();
            ADD_FAILURE() << "close() succeeded";
        } catch (const storage::ZipError& e) {
            EXPECT_EQ(std::string(e.what()).find(dir_.string()), std::string::npos) << e.what();
            EXPECT_FALSE(e.full());
        }
    }
    EXPECT_FALSE(fs::exists(dir_ / "out.zip"));
    // A directory that does not exist.
    EXPECT_THROW(
        {
            storage::ZipWriter zip(dir_ / "no-such-dir" / "out.zip");
            zip.add_bytes("a.txt", "x");
            zip.close();
        },
        storage::ZipError);
}

// Unzipped on macOS or Windows, names differing only in case are one file:
// the second page overwrote the first.
TEST(UniqueEntryName, NamesDifferingOnlyInCaseAreRepeats) {
    std::set<std::string> used{"manifest.json"};
    EXPECT_EQ(storage::unique_entry_name(used, "About.pdf"), "About.pdf");
    EXPECT_EQ(storage::unique_entry_name(used, "about.pdf"), "about-2.pdf");
    EXPECT_EQ(storage::unique_entry_name(used, "ABOUT-2.pdf"), "ABOUT-2-2.pdf");
    EXPECT_EQ(storage::unique_entry_name(used, "docs/Intro.pdf"), "docs/Intro.pdf");
    EXPECT_EQ(storage::unique_entry_name(used, "Docs/intro.pdf"), "Docs/intro-2.pdf");
    EXPECT_EQ(storage::unique_entry_name(used, "Manifest.JSON"), "Manifest-2.JSON");
}

// A site's /x and /x.pdf/y: a file and a folder of one name, which no
// unzip tool can make both; either order.
TEST(UniqueEntryName, AFileAndAFolderNeverShareAName) {
    std::set<std::string> used{"manifest.json"};
    EXPECT_EQ(storage::unique_entry_name(used, "x.pdf"), "x.pdf");
    EXPECT_EQ(storage::unique_entry_name(used, "x.pdf/y.pdf"), "x.pdf-2/y.pdf");
    EXPECT_EQ(storage::unique_entry_name(used, "X.PDF/z.pdf"), "X.PDF-2/z.pdf");
    EXPECT_EQ(storage::unique_entry_name(used, "a/b.pdf"), "a/b.pdf");
    EXPECT_EQ(storage::unique_entry_name(used, "a"), "a-2");
    EXPECT_EQ(storage::unique_entry_name(used, "A/c.pdf"), "A/c.pdf");  // the same folder
    // a dot in a folder's name is not the file's extension
    EXPECT_EQ(storage::unique_entry_name(used, "v1.2/readme"), "v1.2/readme");
    EXPECT_EQ(storage::unique_entry_name(used, "v1.2/readme"), "v1.2/readme-2");
}

TEST(UniqueEntryName, NumbersRepeatsBeforeTheExtension) {
    std::set<std::string> used{"manifest.json"};
    EXPECT_EQ(storage::unique_entry_name(used, "a.pdf"), "a.pdf");
    EXPECT_EQ(storage::unique_entry_name(used, "a.pdf"), "a-2.pdf");
    EXPECT_EQ(storage::unique_entry_name(used, "a.pdf"), "a-3.pdf");
    EXPECT_EQ(storage::unique_entry_name(used, "manifest.json"), "manifest-2.json");
    EXPECT_EQ(storage::unique_entry_name(used, "noext"), "noext");
    EXPECT_EQ(storage::unique_entry_name(used, "noext"), "noext-2");
    EXPECT_EQ(used.size(), 7u);
}
