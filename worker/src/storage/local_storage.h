// Local directory storage backend: results live at <root>/<object key>, and
// nginx serves them from there (internal location aliasing <root>/).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace enconvert::storage {

class LocalStorage {
  public:
    // Creates <root> and <root>/.tmp if needed; throws std::filesystem_error.
    explicit LocalStorage(std::filesystem::path root);

    // Where renderers write before a file is stored: on the same file system
    // as the final location, so storing is an atomic rename.
    const std::filesystem::path& temp_dir() const { return temp_dir_; }

    // Moves temp_file to <root>/<key> (creating directories) and returns its
    // size. Readers never see a partial file. Throws std::runtime_error on an
    // invalid key, std::filesystem_error on I/O failure.
    std::uint64_t store(const std::filesystem::path& temp_file, const std::string& key);

    // Best-effort removal of a stored object (e.g. after losing a lease).
    void remove(const std::string& key) noexcept;

    std::filesystem::path path_for(const std::string& key) const { return root_ / key; }

  private:
    std::filesystem::path root_;
    std::filesystem::path temp_dir_;
};

}  // namespace enconvert::storage
