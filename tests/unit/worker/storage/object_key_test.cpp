#include "storage/object_key.h"

#include <gtest/gtest.h>

using namespace enconvert::storage;
using nlohmann::json;

TEST(ObjectKey, SanitizeRemovesTraversal) {
    EXPECT_EQ(sanitize_name("../x"), "x");
    EXPECT_EQ(sanitize_name("../../etc/passwd"), "etc_passwd");
    EXPECT_EQ(sanitize_name("a..b"), "a.b");
    EXPECT_EQ(sanitize_name("a/b\\c"), "a_b_c");
}

TEST(ObjectKey, SanitizeRemovesControlCharsAndUnicode) {
    EXPECT_EQ(sanitize_name(std::string("a\nb\x01"
                                        "c\x7f")),
              "a_b_c");
    EXPECT_EQ(sanitize_name("r\xc3\xa9sum\xc3\xa9"), "r_sum");  // "résumé"
    EXPECT_EQ(sanitize_name("\xe2\x9c\x93"), "");               // "✓" only
}

TEST(ObjectKey, SanitizeTrimsAndLimitsLength) {
    EXPECT_EQ(sanitize_name("  report  "), "report");
    EXPECT_EQ(sanitize_name("...."), "");
    EXPECT_EQ(sanitize_name(""), "");
    EXPECT_EQ(sanitize_name(std::string(300, 'a')).size(), 100u);
}

TEST(ObjectKey, HostNameDotsBecomeDashes) {
    EXPECT_EQ(host_name_for_key("https://example.com/path?q=1"), "example-com");
    EXPECT_EQ(host_name_for_key("http://Sub.Example.COM:8080/"), "sub-example-com");
    EXPECT_EQ(host_name_for_key("https://[::1]:8443/x"), "1");
    EXPECT_EQ(host_name_for_key("not a url"), "not_a_url");
    EXPECT_EQ(host_name_for_key("https://"), "file");
}

TEST(ObjectKey, OutputNameFallsBackToHost) {
    EXPECT_EQ(output_name(json::object(), "https://example.com", "pdf"), "example-com");
    EXPECT_EQ(output_name(json{{"output_filename", ""}}, "https://example.com", "pdf"),
              "example-com");
    EXPECT_EQ(output_name(json{{"output_filename", "../.."}}, "https://a.b", "pdf"), "a-b");
    EXPECT_EQ(output_name(json{{"output_filename", "report"}}, "https://a.b", "pdf"), "report");
}

TEST(ObjectKey, OutputNameDropsTypedExtension) {
    EXPECT_EQ(output_name(json{{"output_filename", "report.PDF"}}, "https://a.b", "pdf"), "report");
    EXPECT_EQ(output_name(json{{"output_filename", "shot.png"}}, "https://a.b", "jpg"), "shot.png");
}

TEST(ObjectKey, FormatAndExtension) {
    EXPECT_EQ(format_for("url-to-pdf", json{{"image_format", "png"}}), "pdf");
    EXPECT_EQ(format_for("url-to-screenshot", json::object()), "png");
    EXPECT_EQ(format_for("url-to-screenshot", json{{"image_format", "jpeg"}}), "jpeg");
    EXPECT_EQ(format_for("url-to-screenshot", json{{"image_format", "gif"}}), "png");
    EXPECT_EQ(extension_for("jpeg"), "jpg");
    EXPECT_EQ(extension_for("webp"), "webp");
    EXPECT_EQ(content_type_for("pdf"), "application/pdf");
    EXPECT_EQ(content_type_for("png"), "image/png");
    EXPECT_EQ(content_type_for("jpeg"), "image/jpeg");
}

TEST(ObjectKey, BuildKeyFollowsLayout) {
    const std::string key =
        build_object_key("abc123", "url-to-pdf", "example-com", "20260101T000000Z", 7, "pdf");
    EXPECT_EQ(key, "live/files/abc123/url-to-pdf/example-com_20260101T000000Z_7.pdf");
    EXPECT_TRUE(is_valid_object_key(key));
    // Later claims of the task: a key of their own.
    const std::string second =
        build_object_key("abc123", "url-to-pdf", "example-com", "20260101T000000Z", 7, "pdf", 2);
    EXPECT_EQ(second, "live/files/abc123/url-to-pdf/example-com_20260101T000000Z_7-2.pdf");
    EXPECT_TRUE(is_valid_object_key(second));
}

TEST(ObjectKey, AResultKeyIsMadeOfTheJobAndTheClaimAlone) {
    // What retention computes for an earlier claim is what the claim stored
    // under: nothing of the moment of storing is in it.
    const json options = {{"image_format", "jpeg"}, {"output_filename", "Q3 report.jpg"}};
    EXPECT_EQ(result_object_key("abc123", "url-to-screenshot", options, "https://a.example/x",
                                "20260101T000000Z", 7, 3),
              "live/files/abc123/url-to-screenshot/Q3_report_20260101T000000Z_7-3.jpg");
    EXPECT_EQ(result_object_key("abc123", "url-to-pdf", json::object(), "https://www.example.com/",
                                "20260101T000000Z", 7, 1),
              "live/files/abc123/url-to-pdf/www-example-com_20260101T000000Z_7.pdf");
}

// A batch's ZIP is named by output_filename, else "batch". A user's
// "file" (the name an empty host falls back to) was taken for no name.
TEST(ObjectKey, ABatchArchiveIsNamedAsTheUserAsked) {
    EXPECT_EQ(build_archive_key("a1", "url-to-pdf", {{"output_filename", "file"}},
                                "20260101T000000Z", "batch_x"),
              "live/files/a1/url-to-pdf/file_20260101T000000Z_batch_x.zip");
    EXPECT_EQ(build_archive_key("a1", "url-to-pdf", {{"output_filename", "report.zip"}},
                                "20260101T000000Z", "batch_x"),
              "live/files/a1/url-to-pdf/report_20260101T000000Z_batch_x.zip");
    EXPECT_EQ(build_archive_key("a1", "url-to-pdf", json::object(), "20260101T000000Z", "batch_x"),
              "live/files/a1/url-to-pdf/batch_20260101T000000Z_batch_x.zip");
    EXPECT_EQ(build_archive_key("a1", "url-to-pdf", {{"output_filename", "///"}},
                                "20260101T000000Z", "batch_x"),
              "live/files/a1/url-to-pdf/batch_20260101T000000Z_batch_x.zip");
}

TEST(ObjectKey, ValidKeyCharset) {
    EXPECT_FALSE(is_valid_object_key(""));
    EXPECT_FALSE(is_valid_object_key("/abs"));
    EXPECT_FALSE(is_valid_object_key("a/../b"));
    EXPECT_FALSE(is_valid_object_key("a b"));
    EXPECT_TRUE(is_valid_object_key("live/files/x/y.pdf"));
    // Only files: nginx answered a folder's key with a redirect to the
    // internal files location or a refusal, as HTML.
    EXPECT_FALSE(is_valid_object_key("live/files/x/url-to-pdf"));
    EXPECT_FALSE(is_valid_object_key("live/files/x/url-to-pdf/"));
    EXPECT_FALSE(is_valid_object_key("live/files/x/.pdf"));
    EXPECT_FALSE(is_valid_object_key("live/files/x/y."));
}
