#include "storage/sigv4.h"

#include <gtest/gtest.h>

#include "util/crypto.h"

using namespace enconvert::storage;

namespace {

// AWS's published example credentials (S3 API reference, "Authenticating
// Requests: Using Query Parameters").
const sigv4::Credentials kAws{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};

}  // namespace

TEST(SigV4, UriEncodeKeepsUnreservedOnly) {
    EXPECT_EQ(sigv4::uri_encode("AZaz09-._~", true), "AZaz09-._~");
    EXPECT_EQ(sigv4::uri_encode("a b/c", true), "a%20b%2Fc");
    EXPECT_EQ(sigv4::uri_encode("a b/c", false), "a%20b/c");
    EXPECT_EQ(sigv4::uri_encode("attachment; filename=\"x.pdf\"", true),
              "attachment%3B%20filename%3D%22x.pdf%22");
    EXPECT_EQ(sigv4::uri_encode("\xc3\xa9+*", true), "%C3%A9%2B%2A");
}

TEST(SigV4, AmzDateIsUtc) {
    EXPECT_EQ(sigv4::amz_date(1369353600), "20130524T000000Z");
    EXPECT_EQ(sigv4::amz_date(0), "19700101T000000Z");
}

// AWS General Reference, "Examples of how to derive a signing key for
// Signature Version 4".
TEST(SigV4, SigningKeyMatchesAwsExample) {
    EXPECT_EQ(enconvert::util::to_hex(sigv4::signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                                         "20120215", "us-east-1", "iam")),
              "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

// The "GET object" presigned URL example of the S3 API reference:
// examplebucket/test.txt, 20130524T000000Z, 86400 s.
TEST(SigV4, PresignedQueryMatchesAwsExample) {
    sigv4::QueryRequest req;
    req.host = "examplebucket.s3.amazonaws.com";
    req.canonical_path = "/test.txt";
    req.region = "us-east-1";
    req.amz_date = "20130524T000000Z";
    req.expires = 86400;
    EXPECT_EQ(sigv4::presigned_query(req, kAws),
              "X-Amz-Algorithm=AWS4-HMAC-SHA256"
              "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
              "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
              "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4, ExtraParametersAreSignedInCanonicalOrder) {
    sigv4::QueryRequest req;
    req.host = "examplebucket.s3.amazonaws.com";
    req.canonical_path = "/test.txt";
    req.region = "us-east-1";
    req.amz_date = "20130524T000000Z";
    req.expires = 86400;
    req.extra.emplace_back("response-content-disposition", "attachment; filename=\"t.txt\"");
    const std::string q = sigv4::presigned_query(req, kAws);
    // Upper-case X-Amz-* sort before lower-case response-*; the signature
    // comes last and differs from the plain example's.
    EXPECT_NE(q.find("X-Amz-SignedHeaders=host&response-content-disposition="
                     "attachment%3B%20filename%3D%22t.txt%22&X-Amz-Signature="),
              std::string::npos)
        << q;
    EXPECT_EQ(q.find("aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"),
              std::string::npos);
}
