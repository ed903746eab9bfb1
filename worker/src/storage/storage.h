// Where results are kept. Two backends implement it: LocalStorage (a
// directory nginx serves) and S3Storage (an S3-compatible object store).
// Which one runs is the worker configuration's `storage_backend`; download
// links for either come from storage::Presigner (presign.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace enconvert::storage {

// A result that could not be stored. `full`: the local file system is out of
// space (or quota), so storing may succeed later; otherwise the file itself
// is bad or the storage failed. what() never names a path or a credential.
class StorageError : public std::runtime_error {
  public:
    StorageError(const std::string& what, bool full) : std::runtime_error(what), full_(full) {}
    bool full() const { return full_; }

  private:
    bool full_;
};

// The store kept giving answers that may change (unreachable, timeouts,
// 5xx, SlowDown) until the attempts were used up: the same request may work
// later, and the next one now would most likely fail the same way.
class StorageUnavailable : public StorageError {
  public:
    explicit StorageUnavailable(const std::string& what) : StorageError(what, false) {}
};

class Storage {
  public:
    virtual ~Storage() = default;

    // Where renderers write before a file is stored.
    virtual const std::filesystem::path& temp_dir() const = 0;

    // Stores temp_file under `key` and returns its size, once the result is
    // durably stored: checks first that it is a complete file of `format`
    // (storage/file_check.h) and, when expected_size >= 0, that it has that
    // size. temp_file is gone afterwards, whether storing worked or not.
    // Throws StorageError when the file cannot be stored, std::runtime_error
    // for an invalid key.
    virtual std::uint64_t store(const std::filesystem::path& temp_file, const std::string& key,
                                std::string_view format, std::int64_t expected_size = -1) = 0;

    // Copies the stored object `key` to the local file `dest` (replaced if
    // it exists): a batch's ZIP is made from the stored results, which may
    // have been rendered by other workers. Throws StorageError (`full` when
    // dest's file system is out of space).
    virtual void fetch(const std::string& key, const std::filesystem::path& dest) = 0;

    // False when new renders would only fill up the space they are written
    // to: no new task is taken meanwhile.
    bool has_room() const { return has_room_for(0); }

    // Whether `bytes` more can be written to temp_dir() and still leave the
    // free space storage_min_free_mb keeps (a batch's ZIP writes copies of
    // its results, then itself). True when the space cannot be told.
    virtual bool has_room_for(std::uint64_t bytes) const = 0;

    // Best-effort removal of a stored object (e.g. after losing a lease).
    virtual void remove(const std::string& key) noexcept = 0;

    // Removal that must happen (retention): returns once the object is
    // gone (an object already missing is gone); throws StorageError when it
    // may still exist, so the caller tries again later (StorageUnavailable
    // when the store itself is failing).
    virtual void erase(const std::string& key) = 0;
};

}  // namespace enconvert::storage
