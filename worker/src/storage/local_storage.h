// Local directory storage backend: results live at <root>/<object key>, and
// nginx serves them from there (internal location aliasing <root>/).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "storage/storage.h"

namespace enconvert::storage {

class LocalStorage final : public Storage {
  public:
    // Creates <root> and <root>/.tmp if needed; throws std::filesystem_error.
    // Below min_free_bytes of free space the storage reports !has_room().
    explicit LocalStorage(std::filesystem::path root, std::uint64_t min_free_bytes = 0);

    // Where renderers write before a file is stored: on the same file system
    // as the final location, so storing is an atomic rename.
    const std::filesystem::path& temp_dir() const override { return temp_dir_; }

    // Stores temp_file as <root>/<key> and returns its size: checks that it
    // is a complete file of `format` (storage/file_check.h) and, when
    // expected_size >= 0, that it has that size; syncs it; renames it into
    // place (creating directories); syncs the directory. Readers never see
    // a partial file, and a stored file survives a crash. On any failure
    // temp_file is removed and StorageError thrown; std::runtime_error for an
    // invalid key.
    std::uint64_t store(const std::filesystem::path& temp_file, const std::string& key,
                        std::string_view format, std::int64_t expected_size = -1) override;

    // Copies <root>/<key> to dest.
    void fetch(const std::string& key, const std::filesystem::path& dest) override;

    // False when the file system holding the storage would have less than
    // min_free_bytes available after `bytes` more: new renders would only
    // fill it up.
    bool has_room_for(std::uint64_t bytes) const override;

    // Best-effort removal of a stored object (e.g. after losing a lease).
    void remove(const std::string& key) noexcept override;
    void erase(const std::string& key) override;

    std::filesystem::path path_for(const std::string& key) const { return root_ / key; }

  private:
    std::filesystem::path root_;
    std::filesystem::path temp_dir_;
    std::uint64_t min_free_bytes_;
};

}  // namespace enconvert::storage
