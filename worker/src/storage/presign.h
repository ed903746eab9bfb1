// Presigned download URLs (docs/internals.md):
//   {base}/v1/files/{key}?expires={unix}&signature={hex}
//   signature = hex HMAC-SHA256(secret, "GET\n/v1/files/{key}\n{expires}")
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace enconvert::storage {

std::string presign_signature(std::string_view secret, std::string_view object_key,
                              std::int64_t expires);

std::string presign_url(std::string_view base, std::string_view object_key, std::int64_t expires,
                        std::string_view secret);

class Presigner {
  public:
    // public_url: configured base; when empty the job's base_url is used.
    Presigner(std::string secret, std::string public_url, int ttl_seconds)
        : secret_(std::move(secret)), public_url_(std::move(public_url)), ttl_(ttl_seconds) {}

    // A URL valid for ttl seconds from now.
    std::string url(std::string_view job_base_url, std::string_view object_key) const;
    std::string url_at(std::string_view job_base_url, std::string_view object_key,
                       std::int64_t now_unix) const;

  private:
    std::string secret_;
    std::string public_url_;
    int ttl_;
};

}  // namespace enconvert::storage
