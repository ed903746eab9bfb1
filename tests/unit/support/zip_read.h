// Reads a ZIP archive back with libzip, for the tests of what writes one
// (storage/zip_archive, the batch archiver). Header-only: the test targets
// glob *_test.cpp.
#pragma once

#include <zip.h>

#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

namespace enconvert::test_support {

namespace zip_read_detail {
struct ZipClose {
    void operator()(zip_t* z) const noexcept { zip_discard(z); }
};
struct ZipFileClose {
    void operator()(zip_file_t* f) const noexcept { zip_fclose(f); }
};
}  // namespace zip_read_detail

// Every entry of the archive at `path`: name → bytes. Throws when the
// archive is not consistent (ZIP_CHECKCONS) or an entry cannot be read.
inline std::map<std::string, std::string> read_zip(const std::filesystem::path& path) {
    using namespace zip_read_detail;
    int code = 0;
    std::unique_ptr<zip_t, ZipClose> z(zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code));
    if (!z) throw std::runtime_error("zip_open failed: " + std::to_string(code));
    std::map<std::string, std::string> out;
    const zip_int64_t n = zip_get_num_entries(z.get(), 0);
    for (zip_int64_t i = 0; i < n; ++i) {
        zip_stat_t st;
        if (zip_stat_index(z.get(), static_cast<zip_uint64_t>(i), 0, &st) != 0)
            throw std::runtime_error("zip_stat_index failed");
        std::unique_ptr<zip_file_t, ZipFileClose> f(
            zip_fopen_index(z.get(), static_cast<zip_uint64_t>(i), 0));
        if (!f) throw std::runtime_error("zip_fopen_index failed");
        std::string data(st.size, '\0');
        if (zip_fread(f.get(), data.data(), st.size) != static_cast<zip_int64_t>(st.size))
            throw std::runtime_error("zip_fread failed");
        out[st.name] = std::move(data);
    }
    return out;
}

}  // namespace enconvert::test_support
