// S3-compatible storage backend: renders are written to a local scratch
// directory, checked, then uploaded (one PUT below the multipart threshold,
// a multipart upload above it). A result counts as stored only once the
// object store has confirmed it; failed requests are retried with backoff.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "storage/s3_client.h"
#include "storage/storage.h"

namespace enconvert::storage {

struct S3StorageOptions {
    std::uint64_t multipart_threshold_bytes = 16u << 20;
    std::uint64_t part_size_bytes = 16u << 20;
    // Tries of each request before the upload fails (transient errors only;
    // an answer that cannot change, such as NoSuchBucket, fails at once).
    int upload_attempts = 3;
    // Below this much free space in the scratch directory no new task is taken.
    std::uint64_t min_free_bytes = 0;
};

class S3Storage final : public Storage {
  public:
    // scratch_dir/.tmp holds renders until they are uploaded (created here;
    // throws std::filesystem_error).
    S3Storage(std::unique_ptr<S3Client> client, const std::filesystem::path& scratch_dir,
              S3StorageOptions options);

    const std::filesystem::path& temp_dir() const override { return temp_dir_; }
    // Blocks until the object is stored or the attempts are used up; then
    // StorageError("the object store …: <reason> (N attempts)").
    std::uint64_t store(const std::filesystem::path& temp_file, const std::string& key,
                        std::string_view format, std::int64_t expected_size = -1) override;
    // GetObject (with retries), written to dest.
    void fetch(const std::string& key, const std::filesystem::path& dest) override;
    // Room in the scratch directory (only renders in progress and ZIPs being
    // built are written locally).
    bool has_room_for(std::uint64_t bytes) const override;
    void remove(const std::string& key) noexcept override;
    void erase(const std::string& key) override;

  private:
    template <typename Request>
    auto with_retries(const std::string& key, const char* what, Request request);
    void upload_multipart(const std::filesystem::path& file, const std::string& key,
                          std::uint64_t size, const std::string& content_type);

    std::unique_ptr<S3Client> client_;
    std::filesystem::path temp_dir_;
    S3StorageOptions options_;
};

}  // namespace enconvert::storage
