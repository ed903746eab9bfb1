#include "job_status.h"

#include <gtest/gtest.h>

#include "api_client.h"
#include "cli_error.h"
#include "status_report.h"

using namespace enconvert::cli;
using json = nlohmann::ordered_json;

namespace {

// The example of docs/api.md, "Job status".
const json kStatus = json::parse(R"({
 "job_id": "batch_7f3a9c2e0b1d4c5a8e6f9a0b1c2d3e4f",
 "status": "completed",
 "total_tasks": 3, "completed_tasks": 2, "failed_tasks": 1,
 "tasks": [
   {"url": "https://example.com/page-1", "status": "success",
    "presigned_url": "https://api.example.com/v1/files/k1?expires=1&signature=ab",
    "object_key": "live/files/3f9c/url-to-pdf/example-com_20261202T082155Z_41.pdf",
    "file_size": 184320, "conversion_time": 3.12},
   {"url": "https://example.com/page-2", "status": "success",
    "presigned_url": "https://api.example.com/v1/files/k2?expires=1&signature=cd",
    "object_key": "live/files/3f9c/url-to-pdf/example-com_20261202T082156Z_42.pdf",
    "file_size": 210944, "conversion_time": 4.55},
   {"url": "https://invalid-url.example", "status": "failed",
    "error": "Failed to load page: could not resolve host invalid-url.example"}],
 "created_at": "2026-12-02T08:21:52Z",
 "completed_at": null,
 "notifications": []})");

}  // namespace

TEST(JobStatus, ReadsTheStatusObject) {
    const JobStatus job = parse_job_status(kStatus);
    EXPECT_EQ(job.job_id, "batch_7f3a9c2e0b1d4c5a8e6f9a0b1c2d3e4f");
    EXPECT_TRUE(job.finished());
    EXPECT_EQ(job.total_tasks, 3);
    EXPECT_EQ(job.completed_tasks, 2);
    EXPECT_EQ(job.failed_tasks, 1);
    ASSERT_EQ(job.tasks.size(), 3u);
    EXPECT_TRUE(job.tasks[0].succeeded());
    EXPECT_EQ(job.tasks[0].presigned_url,
              "https://api.example.com/v1/files/k1?expires=1&signature=ab");
    EXPECT_EQ(job.tasks[0].file_size, 184320);
    EXPECT_EQ(job.tasks[1].object_key,
              "live/files/3f9c/url-to-pdf/example-com_20261202T082156Z_42.pdf");
    EXPECT_TRUE(job.tasks[2].failed());
    EXPECT_EQ(job.tasks[2].error,
              "Failed to load page: could not resolve host invalid-url.example");
}

TEST(JobStatus, ProcessingIsNotFinished) {
    json body = kStatus;
    body["status"] = "processing";
    EXPECT_FALSE(parse_job_status(body).finished());
}

TEST(JobStatus, AnythingElseIsAServerError) {
    for (const json& body : {json::object(), json::parse(R"({"job_id": 1})"),
                             json::parse(R"({"job_id":"j","status":"completed","total_tasks":1,)"
                                         R"("completed_tasks":1,"failed_tasks":0,)"
                                         R"("tasks":[{"url":"u","status":"success"}]})")}) {
        try {
            parse_job_status(body);
            ADD_FAILURE() << body;
        } catch (const CliError& e) {
            EXPECT_EQ(e.code(), ExitCode::server_error);
        }
    }
}

TEST(StatusReport, SummaryThenOneLinePerUrl) {
    json body = kStatus;
    body["status"] = "processing";
    body["completed_tasks"] = 1;
    body["tasks"][1] = {{"url", "https://example.com/page-2"}, {"status", "processing"}};
    EXPECT_EQ(status_report(parse_job_status(body)),
              "batch_7f3a9c2e0b1d4c5a8e6f9a0b1c2d3e4f: processing, 2/3 finished "
              "(1 converted, 1 failed)\n"
              "  success     https://example.com/page-1  "
              "https://api.example.com/v1/files/k1?expires=1&signature=ab\n"
              "  processing  https://example.com/page-2\n"
              "  failed      https://invalid-url.example  "
              "Failed to load page: could not resolve host invalid-url.example\n");
}

TEST(ConversionRequest, OneUrlIsAsynchronousSeveralAreABatch) {
    EXPECT_EQ(conversion_request({"https://a/"}),
              nlohmann::json::parse(R"({"url": "https://a/", "async_mode": true})"));
    EXPECT_EQ(conversion_request({"https://a/", "https://b/"}),
              nlohmann::json::parse(R"({"url": ["https://a/", "https://b/"]})"));
}

TEST(JobIds, OnlyWhatTheApiCouldLookUp) {
    EXPECT_TRUE(could_be_job_id("job_0123456789abcdef0123456789abcdef"));
    EXPECT_TRUE(could_be_job_id("batch_x-Y_9"));
    EXPECT_TRUE(could_be_job_id(std::string(128, 'a')));
    for (const std::string& id :
         {std::string(), std::string(129, 'a'), std::string("../health"), std::string("job_1?x"),
          std::string("job 1"), std::string("job_1%2F")}) {
        EXPECT_FALSE(could_be_job_id(id)) << id;
    }
}
