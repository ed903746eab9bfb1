#include "storage/temp_sweep.h"

#include <gtest/gtest.h>

#include <fstream>

namespace fs = std::filesystem;
using enconvert::storage::remove_stale_temp_entries;

namespace {

void touch(const fs::path& p, std::chrono::hours age) {
    std::ofstream(p) << "x";
    fs::last_write_time(p, fs::file_time_type::clock::now() - age);
}

}  // namespace

TEST(TempSweep, RemovesOnlyWhatIsOlderThanTheAge) {
    const fs::path dir =
        fs::temp_directory_path() / ("enconvert-sweep-" + std::to_string(getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir / "zip-old");
    touch(dir / "zip-old" / "a.pdf", std::chrono::hours(7));
    fs::last_write_time(dir / "zip-old", fs::file_time_type::clock::now() - std::chrono::hours(7));
    touch(dir / "render-old.pdf.part", std::chrono::hours(7));
    touch(dir / "render-now.pdf.part", std::chrono::hours(0));
    fs::create_directories(dir / "zip-now");

    EXPECT_EQ(remove_stale_temp_entries(dir), 2);
    EXPECT_FALSE(fs::exists(dir / "zip-old"));
    EXPECT_FALSE(fs::exists(dir / "render-old.pdf.part"));
    EXPECT_TRUE(fs::exists(dir / "render-now.pdf.part"));
    EXPECT_TRUE(fs::exists(dir / "zip-now"));
    EXPECT_EQ(remove_stale_temp_entries(dir / "missing"), 0);  // never throws
    fs::remove_all(dir);
}
