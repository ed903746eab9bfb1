#include "storage/local_storage.h"

#include <stdexcept>

#include "storage/object_key.h"

namespace enconvert::storage {

namespace fs = std::filesystem;

LocalStorage::LocalStorage(fs::path root) : root_(std::move(root)), temp_dir_(root_ / ".tmp") {
    fs::create_directories(temp_dir_);
}

std::uint64_t LocalStorage::store(const fs::path& temp_file, const std::string& key) {
    if (!is_valid_object_key(key)) throw std::runtime_error("invalid object key");
    const fs::path target = root_ / key;
    fs::create_directories(target.parent_path());
    const std::uint64_t size = fs::file_size(temp_file);
    fs::rename(temp_file, target);  // same file system: atomic
    return size;
}

void LocalStorage::remove(const std::string& key) noexcept {
    if (!is_valid_object_key(key)) return;
    std::error_code ec;
    fs::remove(root_ / key, ec);
}

}  // namespace enconvert::storage
