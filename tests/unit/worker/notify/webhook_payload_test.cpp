#include "notify/webhook_payload.h"

#include <gtest/gtest.h>

#include <set>

#include "job_fixtures.h"

using namespace enconvert;
using nlohmann::json;

namespace {

std::set<std::string> keys(const json& j) {
    std::set<std::string> out;
    for (auto it = j.begin(); it != j.end(); ++it) out.insert(it.key());
    return out;
}

}  // namespace

TEST(WebhookPayloadTest, ExactlyTheReferenceFields) {
    const storage::Presigner presigner("secret", "", 3600);
    const json p = notify::webhook_payload(test_support::three_task_job(), presigner);
    EXPECT_EQ(keys(p), (std::set<std::string>{"job_id", "status", "total_tasks", "completed_tasks",
                                              "failed_tasks", "tasks"}));
    EXPECT_EQ(p["job_id"], "batch_0123456789abcdef0123456789abcdef");
    EXPECT_EQ(p["status"], "completed");
    EXPECT_EQ(p["total_tasks"], 3);
    EXPECT_EQ(p["completed_tasks"], 2);
    EXPECT_EQ(p["failed_tasks"], 1);
    ASSERT_EQ(p["tasks"].size(), 3u);

    const json& ok = p["tasks"][0];
    EXPECT_EQ(keys(ok), (std::set<std::string>{"url", "status", "presigned_url", "object_key",
                                               "file_size", "conversion_time"}));
    EXPECT_EQ(ok["url"], "https://example.com/page-1");
    EXPECT_EQ(ok["status"], "success");
    EXPECT_EQ(ok["object_key"], "live/files/abc123/url-to-pdf/page-1_20260101T000003Z_1.pdf");
    EXPECT_EQ(ok["file_size"], 184320);
    EXPECT_DOUBLE_EQ(ok["conversion_time"].get<double>(), 3.12);
    const std::string url = ok["presigned_url"];
    EXPECT_EQ(url.rfind("https://api.example.com/v1/files/live/files/abc123/url-to-pdf/page-1_", 0),
              0u)
        << url;
    EXPECT_NE(url.find("expires="), std::string::npos);
    EXPECT_NE(url.find("signature="), std::string::npos);

    const json& bad = p["tasks"][2];
    EXPECT_EQ(keys(bad), (std::set<std::string>{"url", "status", "error"}));
    EXPECT_EQ(bad["status"], "failed");
    EXPECT_EQ(bad["error"], "Failed to load page: net::ERR_NAME_NOT_RESOLVED");
}

TEST(WebhookPayloadTest, FailedJob) {
    db::JobView job = test_support::three_task_job();
    job.status = "failed";
    job.tasks = {job.tasks[2]};
    const storage::Presigner presigner("secret", "https://files.example.com", 60);
    const json p = notify::webhook_payload(job, presigner);
    EXPECT_EQ(p["status"], "failed");
    EXPECT_EQ(p["total_tasks"], 1);
    EXPECT_EQ(p["completed_tasks"], 0);
    EXPECT_EQ(p["failed_tasks"], 1);
    EXPECT_EQ(p["tasks"][0]["url"], "https://invalid-url.example");
}

TEST(WebhookPayloadTest, AWebsiteCaptureThatFoundNoPageReportsItsUrlFailed) {
    // Before: {"status":"failed","total_tasks":0,"tasks":[]}, no URL, no reason.
    const db::JobView job =
        test_support::failed_discovery_job("no_pages", "robots.txt forbids every page.");
    const json p = notify::webhook_payload(job, storage::Presigner("s", "", 60));
    EXPECT_EQ(p, (json{{"job_id", job.id},
                       {"status", "failed"},
                       {"total_tasks", 1},
                       {"completed_tasks", 0},
                       {"failed_tasks", 1},
                       {"tasks", json::array({{{"url", "https://example.com/site/"},
                                               {"status", "failed"},
                                               {"error", "robots.txt forbids every page."}}})}}));
}

TEST(WebhookPayloadTest, S3BackendLinksGoToTheObjectStore) {
    const storage::Presigner s3(
        storage::S3UrlSigner(storage::S3Endpoint("https://s3.example.com", "results", true),
                             "eu-west-1", {"AKIDEXAMPLE", "secret"}),
        3600);
    const json p = notify::webhook_payload(test_support::three_task_job(), s3);
    const std::string link = p["tasks"][0]["presigned_url"];
    EXPECT_EQ(link.rfind("https://s3.example.com/results/"
                         "live/files/abc123/url-to-pdf/page-1_20260101T000003Z_1.pdf"
                         "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F",
                         0),
              0u)
        << link;
    EXPECT_NE(link.find("&X-Amz-Expires=3600&"), std::string::npos);
    EXPECT_EQ(link.find("secret"), std::string::npos);
}
