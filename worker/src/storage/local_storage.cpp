#include "storage/local_storage.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "storage/file_check.h"
#include "storage/object_key.h"
#include "util/free_space.h"
#include "util/no_space.h"

namespace enconvert::storage {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail_errno(const char* what, int err) {
    throw StorageError(std::string(what) + ": " + std::strerror(err), util::is_no_space(err));
}

// fsync on a file or directory; errors carry errno.
void sync_path(const fs::path& path, int flags) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) fail_errno("cannot open for sync", errno);
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) fail_errno("cannot sync", err);
}

}  // namespace

LocalStorage::LocalStorage(fs::path root, std::uint64_t min_free_bytes)
    : root_(std::move(root)), temp_dir_(root_ / ".tmp"), min_free_bytes_(min_free_bytes) {
    fs::create_directories(temp_dir_);
}

std::uint64_t LocalStorage::store(const fs::path& temp_file, const std::string& key,
                                  std::string_view format, std::int64_t expected_size) {
    if (!is_valid_object_key(key)) throw std::runtime_error("invalid object key");
    try {
        // Sync first: a write error the device reports late (ENOSPC on a
        // delayed allocation, EIO) surfaces here, not after the answer.
        sync_path(temp_file, O_RDONLY);
        std::uint64_t size = 0;
        if (const std::string why = check_rendered(temp_file, format, expected_size, size);
            !why.empty())
            throw StorageError(why, !has_room());
        const fs::path target = root_ / key;
        std::error_code ec;
        fs::create_directories(target.parent_path(), ec);
        if (ec) fail_errno("cannot create the directory", ec.value());
        if (::rename(temp_file.c_str(), target.c_str()) != 0) fail_errno("cannot rename", errno);
        try {
            sync_path(target.parent_path(), O_RDONLY | O_DIRECTORY);
        } catch (...) {
            ::unlink(target.c_str());
            throw;
        }
        return size;
    } catch (const StorageError&) {
        std::error_code ec;
        fs::remove(temp_file, ec);
        throw;
    }
}

void LocalStorage::fetch(const std::string& key, const fs::path& dest) {
    if (!is_valid_object_key(key)) throw StorageError("invalid object key", false);
    std::error_code ec;
    fs::copy_file(root_ / key, dest, fs::copy_options::overwrite_existing, ec);
    if (ec) {
        // Its own error code: reusing `ec` reported "Success" and never a
        // full disk (the ZIP then failed for good instead of waiting).
        std::error_code ignored;
        fs::remove(dest, ignored);
        // Not the key: the message reaches the client (a ZIP's error).
        throw StorageError("cannot read a stored result back: " + ec.message(),
                           util::is_no_space(ec.value()));
    }
}

bool LocalStorage::has_room_for(std::uint64_t bytes) const {
    return util::has_room_for(temp_dir_, min_free_bytes_, bytes);
}

void LocalStorage::remove(const std::string& key) noexcept {
    if (!is_valid_object_key(key)) return;
    std::error_code ec;
    fs::remove(root_ / key, ec);
}

void LocalStorage::erase(const std::string& key) {
    if (!is_valid_object_key(key)) return;  // nothing by that name can exist
    std::error_code ec;
    fs::remove(root_ / key, ec);  // false without error: already gone
    if (ec) throw StorageError("cannot delete " + key + ": " + ec.message(), false);
}

}  // namespace enconvert::storage
