// Optional webhook signing per the Standard Webhooks specification
// (https://www.standardwebhooks.com/): headers webhook-id, webhook-timestamp
// and webhook-signature "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>".
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace enconvert::notify {

// secret: "whsec_<base64 key>" as the spec writes it (the key is the decoded
// bytes), or any other string, used as raw key bytes.
// Throws std::invalid_argument when `secret` is whsec_ with malformed
// base64 or no key at all.
std::vector<std::pair<std::string, std::string>> standard_webhook_headers(const std::string& secret,
                                                                          const std::string& msg_id,
                                                                          std::int64_t timestamp,
                                                                          const std::string& body);

std::string base64_encode(const std::string& bytes);
// Throws std::invalid_argument on malformed input.
std::string base64_decode(const std::string& text);

}  // namespace enconvert::notify
