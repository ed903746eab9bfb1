// The few S3 XML documents the worker reads and writes, through libxml2.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace enconvert::storage::s3xml {

struct ErrorBody {
    std::string code;     // e.g. NoSuchBucket, SlowDown
    std::string message;  // the store's sentence
};

// <Error><Code>…</Code><Message>…</Message></Error>; nullopt when the body
// is not such a document. (CompleteMultipartUpload can answer 200 with one.)
std::optional<ErrorBody> parse_error(std::string_view xml);

// UploadId of an InitiateMultipartUploadResult; nullopt if absent.
std::optional<std::string> parse_upload_id(std::string_view xml);

// The CompleteMultipartUpload request body: parts numbered from 1 in the
// order of `etags`.
std::string complete_multipart_body(const std::vector<std::string>& etags);

// Call once from the main thread before other threads use libxml2.
void init();

}  // namespace enconvert::storage::s3xml
