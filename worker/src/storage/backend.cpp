#include "storage/backend.h"

#include "log/log.h"
#include "notify/ca_bundle.h"
#include "storage/local_storage.h"
#include "storage/s3_storage.h"

namespace enconvert::storage {

namespace {

constexpr log::Logger kLog{"storage"};

sigv4::Credentials credentials(const S3Options& s3) {
    return {s3.access_key_id, s3.secret_access_key};
}

std::uint64_t mib(int n) {
    return static_cast<std::uint64_t>(n) << 20;
}

}  // namespace

std::unique_ptr<Storage> make_storage(const StorageOptions& options,
                                      const std::filesystem::path& storage_dir,
                                      std::uint64_t min_free_bytes,
                                      const std::string& tls_ca_file) {
    if (!options.s3_backend()) {
        kLog.info("local storage", {{"storage_dir", storage_dir.string()}});
        return std::make_unique<LocalStorage>(storage_dir, min_free_bytes);
    }
    const S3Options& s3 = options.s3;
    S3ClientOptions client_options;
    client_options.ca_pem = notify::combined_ca_bundle(tls_ca_file);
    auto client = std::make_unique<S3Client>(S3Endpoint(s3.endpoint, s3.bucket, s3.path_style),
                                             s3.region, credentials(s3), client_options);
    S3StorageOptions storage_options;
    storage_options.multipart_threshold_bytes = mib(s3.multipart_threshold_mb);
    storage_options.part_size_bytes = mib(s3.part_size_mb);
    storage_options.upload_attempts = s3.upload_attempts;
    storage_options.min_free_bytes = min_free_bytes;
    // Never the credentials.
    kLog.info("S3 storage", {{"endpoint", client->endpoint().endpoint()},
                             {"bucket", s3.bucket},
                             {"region", s3.region},
                             {"path_style", s3.path_style}});
    return std::make_unique<S3Storage>(std::move(client), storage_dir, storage_options);
}

Presigner make_presigner(const StorageOptions& options, std::string secret, std::string public_url,
                         int ttl_seconds) {
    if (!options.s3_backend())
        return Presigner(std::move(secret), std::move(public_url), ttl_seconds);
    const S3Options& s3 = options.s3;
    return Presigner(
        S3UrlSigner(S3Endpoint(s3.endpoint, s3.bucket, s3.path_style), s3.region, credentials(s3)),
        ttl_seconds);
}

}  // namespace enconvert::storage
