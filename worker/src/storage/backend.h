// Builds the configured storage backend and its download links
// (storage_backend = local | s3), so the daemon's start-up does not need to
// know either backend's parts.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "storage/presign.h"
#include "storage/storage.h"
#include "storage/storage_config.h"

namespace enconvert::storage {

// storage_dir: the local backend's root; for s3 only renders in progress are
// written there (storage_dir/.tmp). tls_ca_file: extra CA bundle trusted
// for an https:// S3 endpoint. Call before other threads start.
std::unique_ptr<Storage> make_storage(const StorageOptions& options,
                                      const std::filesystem::path& storage_dir,
                                      std::uint64_t min_free_bytes, const std::string& tls_ca_file);

// Local: /v1/files/ links signed with `secret` (public_url or the job's
// base URL). S3: presigned GET URLs of the object store. Both ttl_seconds.
Presigner make_presigner(const StorageOptions& options, std::string secret, std::string public_url,
                         int ttl_seconds);

}  // namespace enconvert::storage
