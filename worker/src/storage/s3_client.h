// The S3 requests the worker sends, one blocking libcurl transfer each,
// signed by libcurl (CURLOPT_AWS_SIGV4). Payloads are hashed into
// x-amz-content-sha256, so the store verifies every byte it keeps.
#pragma once

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "storage/s3_endpoint.h"
#include "storage/sigv4.h"

namespace enconvert::storage {

// A request that failed. retryable: a transport failure, a timeout, or an
// answer that says "try again" (5xx, 408, 429, RequestTimeout, SlowDown);
// anything else (wrong bucket, refused credentials) fails the same way
// every time. what() is a sentence for the task's error: the store's error
// code and message, or libcurl's; never a credential.
class S3Error : public std::runtime_error {
  public:
    S3Error(const std::string& what, bool retryable)
        : std::runtime_error(what), retryable_(retryable) {}
    bool retryable() const { return retryable_; }

  private:
    bool retryable_;
};

struct S3ClientOptions {
    long connect_timeout_seconds = 10;
    // A transfer slower than 1 KiB/s for this long is abandoned.
    long stall_timeout_seconds = 30;
    // PEM CA bundle (system + tls_ca_file); empty: libcurl's defaults.
    std::string ca_pem;
};

class S3Client {
  public:
    S3Client(S3Endpoint endpoint, std::string region, sigv4::Credentials credentials,
             S3ClientOptions options = {});

    void put_object(std::string_view key, std::string_view body, std::string_view content_type);
    // Returns the upload id.
    std::string create_multipart_upload(std::string_view key, std::string_view content_type);
    // Returns the part's ETag.
    std::string upload_part(std::string_view key, std::string_view upload_id, int part_number,
                            std::string_view body);
    void complete_multipart_upload(std::string_view key, std::string_view upload_id,
                                   const std::vector<std::string>& etags);
    void abort_multipart_upload(std::string_view key, std::string_view upload_id);
    void delete_object(std::string_view key);
    // Writes the object's bytes to `dest` (replaced), whole: a batch's ZIP
    // is made of results of any size. Throws S3Error for the store's
    // answers, StorageError (`full` on a full disk) when `dest` cannot be
    // written.
    void get_object_to(std::string_view key, const std::filesystem::path& dest);

    const S3Endpoint& endpoint() const { return endpoint_; }

  private:
    struct Answer {
        long status = 0;
        std::string body;
        std::string etag;
    };
    // `query` must already be in canonical form (sorted, encoded): libcurl
    // signs it as written. Throws S3Error unless the answer is 2xx.
    // `to_file`: a 2xx answer's body is written there instead of kept.
    // `new_object`: the request creates the object (PUT, the start of a
    // multipart upload): it is stored with Cache-Control: no-store.
    Answer send(const char* method, std::string_view key, const std::string& query,
                std::string_view body, std::string_view content_type, std::FILE* to_file = nullptr,
                bool new_object = false);

    S3Endpoint endpoint_;
    std::string region_;
    sigv4::Credentials credentials_;
    S3ClientOptions options_;
};

}  // namespace enconvert::storage
