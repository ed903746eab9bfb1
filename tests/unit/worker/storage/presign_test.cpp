#include "storage/presign.h"

#include <gtest/gtest.h>

using namespace enconvert::storage;

// Known vector, computed independently with (one shell line):
//   K=live/files/abc123/url-to-pdf/example-com_20260101T000000Z_7.pdf
//   printf "GET\n/v1/files/$K\n1767225600" | openssl dgst -sha256 -hmac
//   test-secret-0123456789abcdef
// → 448f99f76dea8106d78fb37f336b4c89900245671b50236fc0721a7c3f99ec40
namespace {
constexpr const char* kSecret = "test-secret-0123456789abcdef";
constexpr const char* kKey = "live/files/abc123/url-to-pdf/example-com_20260101T000000Z_7.pdf";
constexpr const char* kSig = "448f99f76dea8106d78fb37f336b4c89900245671b50236fc0721a7c3f99ec40";
}  // namespace

TEST(Presign, SignatureMatchesOpensslVector) {
    EXPECT_EQ(presign_signature(kSecret, kKey, 1767225600), kSig);
}

TEST(Presign, UrlLayout) {
    EXPECT_EQ(presign_url("https://api.example.com/", kKey, 1767225600, kSecret),
              std::string("https://api.example.com/v1/files/") + kKey +
                  "?expires=1767225600&signature=" + kSig);
}

TEST(Presign, PresignerUsesJobBaseUnlessPublicUrlSet) {
    const Presigner from_job(kSecret, "", 3600);
    EXPECT_EQ(from_job.url_at("http://localhost:8080", kKey, 1767222000),
              std::string("http://localhost:8080/v1/files/") + kKey +
                  "?expires=1767225600&signature=" + kSig);
    const Presigner fixed(kSecret, "https://files.example.com", 3600);
    EXPECT_EQ(fixed.url_at("http://localhost:8080", kKey, 1767222000)
                  .rfind("https://files.example.com/v1/files/", 0),
              0u);
}

TEST(Presign, FreshUrlExpiresInTheFuture) {
    const Presigner p(kSecret, "", 60);
    const std::string url = p.url("http://h", kKey);
    const auto pos = url.find("expires=");
    ASSERT_NE(pos, std::string::npos);
    const long long expires = std::stoll(url.substr(pos + 8));
    EXPECT_GT(expires, static_cast<long long>(std::time(nullptr)));
}
