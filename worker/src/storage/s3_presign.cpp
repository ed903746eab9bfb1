#include "storage/s3_presign.h"

namespace enconvert::storage {

std::string S3UrlSigner::url_at(std::string_view key, std::int64_t now_unix, int ttl_seconds,
                                std::string_view download_name) const {
    sigv4::QueryRequest req;
    req.host = endpoint_.host();
    req.canonical_path = endpoint_.path(key);
    req.region = region_;
    req.amz_date = sigv4::amz_date(now_unix);
    req.expires = ttl_seconds;
    // download_name comes from the object key charset: safe inside quotes.
    if (!download_name.empty())
        req.extra.emplace_back("response-content-disposition",
                               "attachment; filename=\"" + std::string(download_name) + "\"");
    return endpoint_.url(key, sigv4::presigned_query(req, credentials_));
}

}  // namespace enconvert::storage
