// Presigned GET URLs of objects in the S3 backend: SigV4 query signing, so
// clients download straight from the object store without credentials.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/s3_endpoint.h"
#include "storage/sigv4.h"

namespace enconvert::storage {

class S3UrlSigner {
  public:
    S3UrlSigner(S3Endpoint endpoint, std::string region, sigv4::Credentials credentials)
        : endpoint_(std::move(endpoint)),
          region_(std::move(region)),
          credentials_(std::move(credentials)) {}

    // A GET URL for `key`, signed at now_unix, valid ttl_seconds. A
    // non-empty download_name makes the store answer with
    // Content-Disposition: attachment; filename="<download_name>"
    // (response-content-disposition), for direct downloads.
    std::string url_at(std::string_view key, std::int64_t now_unix, int ttl_seconds,
                       std::string_view download_name = {}) const;

  private:
    S3Endpoint endpoint_;
    std::string region_;
    sigv4::Credentials credentials_;
};

}  // namespace enconvert::storage
