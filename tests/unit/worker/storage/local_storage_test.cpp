#include "storage/local_storage.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace enconvert;
namespace fs = std::filesystem;

namespace {

class LocalStorageEraseTest : public ::testing::Test {
  protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() / ("enconvert-erase-" + std::to_string(getpid()));
        fs::create_directories(root_);
    }
    void TearDown() override { fs::remove_all(root_); }
    fs::path root_;
    const std::string key_ = "live/files/acme/url-to-pdf/report_20261202T120000Z_7.pdf";
};

TEST_F(LocalStorageEraseTest, ErasesAFileAndAcceptsOneAlreadyGone) {
    storage::LocalStorage s(root_, 0);
    fs::create_directories((root_ / key_).parent_path());
    std::ofstream(root_ / key_) << "%PDF-1.7";
    s.erase(key_);
    EXPECT_FALSE(fs::exists(root_ / key_));
    EXPECT_NO_THROW(s.erase(key_));
}

TEST_F(LocalStorageEraseTest, AnObjectThatCannotBeDeletedIsAnError) {
    storage::LocalStorage s(root_, 0);
    // A non-empty directory where the file should be: remove() fails even
    // for root, unlike a permission problem.
    fs::create_directories(root_ / key_ / "x");
    EXPECT_THROW(s.erase(key_), storage::StorageError);
    EXPECT_TRUE(fs::exists(root_ / key_));
}

// A fetch's error becomes a batch ZIP's zip_error, which its client reads:
// it says what failed without the storage's layout (it named the key).
TEST_F(LocalStorageEraseTest, AResultThatCannotBeReadBackIsNotNamedInTheError) {
    storage::LocalStorage s(root_, 0);
    try {
        s.fetch(key_, root_ / "copy");
        ADD_FAILURE() << "a missing result was read";
    } catch (const storage::StorageError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "cannot read a stored result back: No such file or directory");
        EXPECT_FALSE(e.full());
    }
    EXPECT_FALSE(fs::exists(root_ / "copy"));
}

}  // namespace
