// Where an S3-compatible store keeps one bucket's objects: the endpoint
// (scheme://host[:port]), the bucket and the addressing style.
//   path style:         {scheme}://{host}[:port]/{bucket}/{key}
//   virtual-host style: {scheme}://{bucket}.{host}[:port]/{key}
#pragma once

#include <string>
#include <string_view>

namespace enconvert::storage {

class S3Endpoint {
  public:
    // Throws std::invalid_argument with a sentence naming what is wrong:
    // the endpoint must be an http(s) URL with a host and nothing after it
    // but an optional '/'; virtual-host style needs a DNS name and a bucket
    // that can be one of its labels.
    S3Endpoint(std::string_view endpoint, std::string bucket, bool path_style);

    // The Host header requests carry (port only when not the scheme's default).
    const std::string& host() const { return host_; }
    // URI-encoded absolute path of an object (AWS canonical URI).
    std::string path(std::string_view key) const;
    // The object's URL; `query` (already encoded, in the order it was
    // signed) is appended after '?' as it is.
    std::string url(std::string_view key, std::string_view query = {}) const;

    const std::string& bucket() const { return bucket_; }
    // scheme://host[:port] as configured, for logs (never holds credentials).
    const std::string& endpoint() const { return endpoint_; }

  private:
    std::string endpoint_;
    std::string scheme_;
    std::string host_;  // bucket included in virtual-host style
    std::string bucket_;
    bool path_style_;
};

}  // namespace enconvert::storage
