// AWS Signature Version 4 pieces the worker computes itself: the query
// signature of presigned GET URLs. Requests the worker sends (uploads) are
// signed by libcurl (CURLOPT_AWS_SIGV4), not here. Reference: AWS S3 API,
// "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace enconvert::storage::sigv4 {

struct Credentials {
    std::string access_key_id;
    std::string secret_access_key;
};

// AWS's UriEncode: RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~) as
// they are, every other byte as %XY (upper-case hex); '/' kept unless
// encode_slash (object key paths keep it, query values do not).
std::string uri_encode(std::string_view s, bool encode_slash);

// yyyymmddThhmmssZ (UTC) of a Unix time: X-Amz-Date.
std::string amz_date(std::int64_t unix_seconds);

// The derived key: HMAC chain over "AWS4"+secret, date (yyyymmdd), region,
// service, "aws4_request". Raw bytes.
std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service);

struct QueryRequest {
    std::string method = "GET";
    std::string host;            // the Host header the client will send
    std::string canonical_path;  // already URI-encoded, e.g. /bucket/dir/file.pdf
    std::string region;
    std::string service = "s3";
    std::string amz_date;      // yyyymmddThhmmssZ
    std::int64_t expires = 0;  // seconds, X-Amz-Expires
    // Further query parameters, not encoded (e.g. response-content-disposition).
    std::vector<std::pair<std::string, std::string>> extra;
};

// The whole query string of a presigned URL, X-Amz-Signature last:
// X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires,
// X-Amz-SignedHeaders=host and the extra parameters, sorted and encoded as
// in the canonical request, payload UNSIGNED-PAYLOAD.
std::string presigned_query(const QueryRequest& req, const Credentials& creds);

}  // namespace enconvert::storage::sigv4
