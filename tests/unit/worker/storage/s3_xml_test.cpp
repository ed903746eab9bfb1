#include "storage/s3_xml.h"

#include <gtest/gtest.h>

using namespace enconvert::storage;

TEST(S3Xml, ParsesErrorCodeAndMessage) {
    const auto e = s3xml::parse_error(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucket</Code>"
        "<Message>The specified bucket does not exist</Message><BucketName>x</BucketName>"
        "</Error>");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, "NoSuchBucket");
    EXPECT_EQ(e->message, "The specified bucket does not exist");
}

TEST(S3Xml, OtherDocumentsAreNoError) {
    EXPECT_FALSE(s3xml::parse_error(""));
    EXPECT_FALSE(s3xml::parse_error("not xml"));
    EXPECT_FALSE(
        s3xml::parse_error("<CompleteMultipartUploadResult><ETag>\"x\"</ETag>"
                           "</CompleteMultipartUploadResult>"));
}

TEST(S3Xml, UploadId) {
    EXPECT_EQ(
        s3xml::parse_upload_id(
            "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<Bucket>b</Bucket><Key>k</Key><UploadId>VXBsb2FkIElE.x-_y</UploadId>"
            "</InitiateMultipartUploadResult>"),
        "VXBsb2FkIElE.x-_y");
    EXPECT_FALSE(s3xml::parse_upload_id("<InitiateMultipartUploadResult/>"));
    EXPECT_FALSE(s3xml::parse_upload_id("<Error><UploadId>x</UploadId></Error>"));
}

TEST(S3Xml, CompleteBodyNumbersPartsAndEscapesETags) {
    const std::string body = s3xml::complete_multipart_body({"\"a1\"", "\"b2&\""});
    EXPECT_NE(
        body.find("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                  "<Part><PartNumber>1</PartNumber><ETag>\"a1\"</ETag></Part>"
                  "<Part><PartNumber>2</PartNumber><ETag>\"b2&amp;\"</ETag></Part>"
                  "</CompleteMultipartUpload>"),
        std::string::npos)
        << body;
}
