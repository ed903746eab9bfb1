#include "notify/webhook_signature.h"

#include <openssl/evp.h>

#include <stdexcept>

#include "util/crypto.h"

namespace enconvert::notify {

std::string base64_encode(const std::string& bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::string base64_decode(const std::string& text) {
    if (text.size() % 4 != 0) throw std::invalid_argument("base64 length not a multiple of 4");
    std::string out(3 * text.size() / 4, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    if (n < 0) throw std::invalid_argument("malformed base64");
    // EVP_DecodeBlock counts padding as output bytes.
    std::size_t len = static_cast<std::size_t>(n);
    for (auto it = text.rbegin(); it != text.rend() && *it == '=' && len > 0; ++it) --len;
    out.resize(len);
    return out;
}

std::vector<std::pair<std::string, std::string>> standard_webhook_headers(const std::string& secret,
                                                                          const std::string& msg_id,
                                                                          std::int64_t timestamp,
                                                                          const std::string& body) {
    constexpr std::string_view prefix = "whsec_";
    const std::string key =
        secret.rfind(prefix, 0) == 0 ? base64_decode(secret.substr(prefix.size())) : secret;
    // An empty key signs with a key everyone knows: anyone could forge it.
    if (key.empty()) throw std::invalid_argument("the signing key is empty");
    const std::string ts = std::to_string(timestamp);
    const std::string signed_content = msg_id + "." + ts + "." + body;
    const std::string sig = base64_encode(util::hmac_sha256_raw(key, signed_content));
    return {{"webhook-id", msg_id}, {"webhook-timestamp", ts}, {"webhook-signature", "v1," + sig}};
}

}  // namespace enconvert::notify
