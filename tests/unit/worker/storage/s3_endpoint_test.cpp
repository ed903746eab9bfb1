#include "storage/s3_endpoint.h"

#include <gtest/gtest.h>

#include <stdexcept>

using enconvert::storage::S3Endpoint;

TEST(S3Endpoint, PathStyle) {
    const S3Endpoint e("http://127.0.0.1:9000", "results", true);
    EXPECT_EQ(e.host(), "127.0.0.1:9000");
    EXPECT_EQ(e.path("live/files/a/b.pdf"), "/results/live/files/a/b.pdf");
    EXPECT_EQ(e.url("live/files/a/b.pdf"), "http://127.0.0.1:9000/results/live/files/a/b.pdf");
    EXPECT_EQ(e.url("k.pdf", "uploads="), "http://127.0.0.1:9000/results/k.pdf?uploads=");
    EXPECT_EQ(e.endpoint(), "http://127.0.0.1:9000");
}

TEST(S3Endpoint, VirtualHostStyle) {
    const S3Endpoint e("https://s3.eu-west-1.amazonaws.com/", "my-bucket", false);
    EXPECT_EQ(e.host(), "my-bucket.s3.eu-west-1.amazonaws.com");
    EXPECT_EQ(e.path("dir/x.png"), "/dir/x.png");
    EXPECT_EQ(e.url("dir/x.png", "a=1&b=2"),
              "https://my-bucket.s3.eu-west-1.amazonaws.com/dir/x.png?a=1&b=2");
}

TEST(S3Endpoint, DefaultPortLeftOutOfHost) {
    EXPECT_EQ(S3Endpoint("https://s3.example.com:443", "b", true).host(), "s3.example.com");
    EXPECT_EQ(S3Endpoint("http://s3.example.com:80", "b", true).host(), "s3.example.com");
    EXPECT_EQ(S3Endpoint("http://s3.example.com:8080", "b", true).host(), "s3.example.com:8080");
}

TEST(S3Endpoint, Ipv6LiteralPathStyle) {
    const S3Endpoint e("http://[::1]:9000", "b", true);
    EXPECT_EQ(e.host(), "[::1]:9000");
    EXPECT_EQ(e.url("k.pdf"), "http://[::1]:9000/b/k.pdf");
}

TEST(S3Endpoint, RefusesWhatCannotWork) {
    EXPECT_THROW(S3Endpoint("s3.example.com", "b", true), std::invalid_argument);
    EXPECT_THROW(S3Endpoint("ftp://s3.example.com", "b", true), std::invalid_argument);
    EXPECT_THROW(S3Endpoint("https://s3.example.com/prefix", "b", true), std::invalid_argument);
    EXPECT_THROW(S3Endpoint("https://s3.example.com/?x=1", "b", true), std::invalid_argument);
    EXPECT_THROW(S3Endpoint("https://key:secret@s3.example.com", "b", true), std::invalid_argument);
    EXPECT_THROW(S3Endpoint("https://s3.example.com", "", true), std::invalid_argument);
    EXPECT_THROW(S3Endpoint("https://s3.example.com", "a/b", true), std::invalid_argument);
    // Virtual-host style puts the bucket into a DNS name.
    EXPECT_THROW(S3Endpoint("https://s3.example.com", "My_Bucket", false), std::invalid_argument);
    EXPECT_THROW(S3Endpoint("http://[::1]:9000", "bucket", false), std::invalid_argument);
    EXPECT_NO_THROW(S3Endpoint("https://s3.example.com", "My_Bucket", true));
}
