#include "storage/sigv4.h"

#include <algorithm>
#include <ctime>

#include "util/crypto.h"
#include "util/percent_encoding.h"

namespace enconvert::storage::sigv4 {

namespace {

bool unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

}  // namespace

std::string uri_encode(std::string_view s, bool encode_slash) {
    return util::percent_encode(s, [encode_slash](unsigned char c) {
        return unreserved(c) || (c == '/' && !encode_slash);
    });
}

std::string amz_date(std::int64_t unix_seconds) {
    const std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service) {
    std::string k = util::hmac_sha256_raw("AWS4" + std::string(secret), date);
    k = util::hmac_sha256_raw(k, region);
    k = util::hmac_sha256_raw(k, service);
    return util::hmac_sha256_raw(k, "aws4_request");
}

std::string presigned_query(const QueryRequest& req, const Credentials& creds) {
    const std::string date = req.amz_date.substr(0, 8);
    const std::string scope = date + "/" + req.region + "/" + req.service + "/aws4_request";
    std::vector<std::pair<std::string, std::string>> params = {
        {"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
        {"X-Amz-Credential", creds.access_key_id + "/" + scope},
        {"X-Amz-Date", req.amz_date},
        {"X-Amz-Expires", std::to_string(req.expires)},
        {"X-Amz-SignedHeaders", "host"},
    };
    params.insert(params.end(), req.extra.begin(), req.extra.end());
    // Canonical query: names and values encoded, then sorted by name (by
    // byte, as AWS compares them).
    for (auto& [name, value] : params) {
        name = uri_encode(name, true);
        value = uri_encode(value, true);
    }
    std::sort(params.begin(), params.end());
    std::string query;
    for (const auto& [name, value] : params) {
        if (!query.empty()) query += '&';
        query += name + "=" + value;
    }
    const std::string canonical_request = req.method + "\n" + req.canonical_path + "\n" + query +
                                          "\n" + "host:" + req.host + "\n\n" + "host\n" +
                                          "UNSIGNED-PAYLOAD";
    const std::string string_to_sign = "AWS4-HMAC-SHA256\n" + req.amz_date + "\n" + scope + "\n" +
                                       util::sha256_hex(canonical_request);
    const std::string key = signing_key(creds.secret_access_key, date, req.region, req.service);
    return query + "&X-Amz-Signature=" + util::hmac_sha256_hex(key, string_to_sign);
}

}  // namespace enconvert::storage::sigv4
