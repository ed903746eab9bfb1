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

namespace {

// The S3 API reference's presigned GET example (see sigv4_test.cpp).
Presigner aws_example_presigner() {
    return Presigner(
        S3UrlSigner(S3Endpoint("https://s3.amazonaws.com", "examplebucket", false), "us-east-1",
                    {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}),
        86400);
}

}  // namespace

TEST(Presign, S3LinksAreTheObjectStoresPresignedUrls) {
    // 1369353600 = 2013-05-24T00:00:00Z; the job's base URL plays no part.
    EXPECT_EQ(aws_example_presigner().url_at("http://localhost:8080", "test.txt", 1369353600),
              "https://examplebucket.s3.amazonaws.com/test.txt"
              "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
              "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
              "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
              "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(Presign, S3PathStyleLinkAndFreshDate) {
    const Presigner p(S3UrlSigner(S3Endpoint("http://127.0.0.1:9000", "results", true), "us-east-1",
                                  {"id", "secret"}),
                      600);
    const std::string url = p.url("http://ignored", kKey);
    EXPECT_EQ(url.rfind(std::string("http://127.0.0.1:9000/results/") + kKey + "?X-Amz-", 0), 0u)
        << url;
    EXPECT_NE(url.find("&X-Amz-Expires=600&"), std::string::npos);
    EXPECT_EQ(url.find("secret"), std::string::npos);
}

TEST(Presign, AttachmentUrlOnlyForS3) {
    EXPECT_FALSE(Presigner(kSecret, "", 3600).attachment_url(kKey, "example-com.pdf"));
    const auto url = aws_example_presigner().attachment_url("test.txt", "test.txt");
    ASSERT_TRUE(url);
    EXPECT_NE(url->find("&response-content-disposition=attachment%3B%20filename%3D%22test.txt%22"
                        "&X-Amz-Signature="),
              std::string::npos)
        << *url;
}
