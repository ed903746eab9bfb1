#include "util/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace enconvert::util {

namespace {

// Fetched once for the process (an EVP_MD is immutable and shared between
// threads): with EVP_sha256(), OpenSSL 3 looks the algorithm up by name,
// under a lock, on every digest (docs/benchmarks.md "Status polling").
const EVP_MD* sha256() {
    static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return md;
}

}  // namespace

std::string sha256_raw(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (sha256() == nullptr ||
        EVP_Digest(data.data(), data.size(), digest, &len, sha256(), nullptr) != 1) {
        throw std::runtime_error("SHA-256 failed");
    }
    return std::string(reinterpret_cast<const char*>(digest), len);
}

std::string sha256_hex(std::string_view data) {
    return to_hex(sha256_raw(data));
}

std::string hmac_sha256_raw(std::string_view key, std::string_view data) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (sha256() == nullptr || HMAC(sha256(), key.data(), static_cast<int>(key.size()),
                                    reinterpret_cast<const unsigned char*>(data.data()),
                                    data.size(), mac, &len) == nullptr) {
        throw std::runtime_error("HMAC-SHA256 failed");
    }
    return std::string(reinterpret_cast<const char*>(mac), len);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
    return to_hex(hmac_sha256_raw(key, data));
}

std::string to_hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 0x0f];
    }
    return out;
}

void random_bytes(unsigned char* out, std::size_t n) {
    if (RAND_bytes(out, static_cast<int>(n)) != 1) {
        throw std::runtime_error("RAND_bytes failed");
    }
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace enconvert::util
