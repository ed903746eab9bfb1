// Presigned download URLs (docs/internals.md). Local backend:
//   {base}/v1/files/{key}?expires={unix}&signature={hex}
//   signature = hex HMAC-SHA256(secret, "GET\n/v1/files/{key}\n{expires}")
// S3 backend: the object store's own SigV4 presigned GET URL (s3_presign.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "storage/s3_presign.h"

namespace enconvert::storage {

std::string presign_signature(std::string_view secret, std::string_view object_key,
                              std::int64_t expires);

std::string presign_url(std::string_view base, std::string_view object_key, std::int64_t expires,
                        std::string_view secret);

// The one place every answer (status, sync result, webhook, email) gets its
// download links from, whichever backend stores the files. Immutable: each
// thread may hold its own copy.
class Presigner {
  public:
    // Local backend. public_url: configured base; when empty the job's
    // base_url is used.
    Presigner(std::string secret, std::string public_url, int ttl_seconds)
        : secret_(std::move(secret)), public_url_(std::move(public_url)), ttl_(ttl_seconds) {}
    // S3 backend: links go straight to the object store.
    Presigner(S3UrlSigner s3, int ttl_seconds) : ttl_(ttl_seconds), s3_(std::move(s3)) {}

    // A URL valid for ttl seconds from now.
    std::string url(std::string_view job_base_url, std::string_view object_key) const;
    std::string url_at(std::string_view job_base_url, std::string_view object_key,
                       std::int64_t now_unix) const;

    // S3 backend: a URL whose download is saved as `filename`, for direct
    // downloads (the client is redirected to it). Local backend: nullopt,
    // since nginx serves those itself.
    std::optional<std::string> attachment_url(std::string_view object_key,
                                              std::string_view filename) const;

    // Links of this service's own /v1/files/ route, signed with the shared
    // secret (nginx can sign them too); false for the S3 backend's.
    bool signs_local_links() const { return !s3_.has_value(); }
    int ttl_seconds() const { return ttl_; }

  private:
    std::string secret_;
    std::string public_url_;
    int ttl_;
    std::optional<S3UrlSigner> s3_;
};

}  // namespace enconvert::storage
