// Thin wrappers over OpenSSL: hashing, HMAC and the CSPRNG.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace enconvert::util {

// Raw 32-byte SHA-256 digest.
std::string sha256_raw(std::string_view data);
std::string sha256_hex(std::string_view data);
// Lowercase hex HMAC-SHA256 of data under key (key used as raw bytes).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);
// Raw 32-byte HMAC-SHA256 (chained signing keys, e.g. AWS SigV4).
std::string hmac_sha256_raw(std::string_view key, std::string_view data);
std::string to_hex(std::string_view bytes);
// Fills out with cryptographically secure random bytes; throws on failure.
void random_bytes(unsigned char* out, std::size_t n);
// Constant-time comparison for secrets of equal length.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace enconvert::util
