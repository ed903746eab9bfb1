#include "api/responses.h"

#include <gtest/gtest.h>

using namespace enconvert;
using nlohmann::json;

namespace {

db::JobView one_task_job(const std::string& task_status) {
    db::JobView job;
    job.id = "job_1";
    job.endpoint = "url-to-pdf";
    job.status = task_status == "success" ? "completed" : "failed";
    job.base_url = "https://api.example.com";
    job.created_at = "2026-01-01T00:00:00Z";
    job.completed_at = "2026-01-01T00:00:04Z";
    db::TaskView t;
    t.url = "https://example.com";
    t.status = task_status;
    if (task_status == "success") {
        t.object_key = "live/files/abc/url-to-pdf/example-com_20260101T000000Z_1.pdf";
        t.filename = "example-com.pdf";
        t.file_size = 184320;
        t.conversion_time = 3.72;
    } else {
        t.error_code = "dns_error";
        t.error = "Failed to load page: host not found";
    }
    job.tasks.push_back(t);
    return job;
}

const storage::Presigner kPresigner("secret", "", 3600);

}  // namespace

TEST(Responses, AcceptedMessages) {
    EXPECT_EQ(api::accepted_message("job_1", std::string("team@yourcompany.com"), std::nullopt),
              "Job queued. You will be notified at team@yourcompany.com when complete.");
    EXPECT_EQ(api::accepted_message("job_1", std::nullopt, std::string("https://x/y")),
              "Job queued. Results will be sent to your callback URL.");
    EXPECT_EQ(api::accepted_message("job_1", std::string("a@b.c"), std::string("https://x/y")),
              "Job queued. You will be notified at a@b.c when complete. Results will be sent to "
              "your callback URL.");
    EXPECT_EQ(api::accepted_message("job_1", std::nullopt, std::nullopt),
              "Job queued. Poll GET /v1/convert/status/job_1 for results.");
}

TEST(Responses, Accepted202Body) {
    const auto a = api::accepted_answer("job_9", "processing", std::nullopt, std::nullopt);
    EXPECT_EQ(a.status, 202);
    EXPECT_EQ(a.content_type, "application/json");
    EXPECT_EQ(json::parse(a.body),
              (json{{"success", true},
                    {"message", "Job queued. Poll GET /v1/convert/status/job_9 for results."},
                    {"job_id", "job_9"},
                    {"batch_id", "job_9"},
                    {"url_count", 1},
                    {"output_format", "individual"},
                    {"status", "processing"}}));
    const auto b = api::accepted_answer("batch_9", "processing", std::nullopt, std::nullopt, 3);
    EXPECT_EQ(json::parse(b.body)["batch_id"], "batch_9");
    EXPECT_EQ(json::parse(b.body)["url_count"], 3);
    EXPECT_EQ(json::parse(b.body)["output_format"], "individual");
    const auto z =
        api::accepted_answer("batch_9", "processing", std::nullopt, std::nullopt, 3, true);
    EXPECT_EQ(json::parse(z.body)["output_format"], "zip");
}

TEST(Responses, ErrorShapes) {
    const auto k = api::invalid_api_key_answer();
    EXPECT_EQ(k.status, 401);
    EXPECT_EQ(json::parse(k.body),
              (json{{"success", false},
                    {"error", "invalid_api_key"},
                    {"detail", "The API key is not valid or has been revoked."}}));
    const auto nf = api::job_not_found_answer();
    EXPECT_EQ(nf.status, 404);
    EXPECT_EQ(json::parse(nf.body)["error"], "job_not_found");
    const auto db = api::database_unavailable_answer();
    EXPECT_EQ(db.status, 503);
    EXPECT_EQ(json::parse(db.body)["error"], "database_unavailable");
    ASSERT_EQ(db.headers.size(), 1u);
    EXPECT_EQ(db.headers[0], (std::pair<std::string, std::string>{"Retry-After", "5"}));
    const auto f = api::error_answer(400, "invalid_url", "url[2]: bad", std::string("url[2]"));
    EXPECT_EQ(json::parse(f.body)["field"], "url[2]");
    EXPECT_EQ(json::parse(api::bad_message_answer("x").body)["error"], "bad_message");
}

TEST(Responses, SyncSuccessBodyHasExactFields) {
    const auto a = api::sync_answer(one_task_job("success"), kPresigner, false);
    EXPECT_EQ(a.status, 200);
    json body = json::parse(a.body);
    const std::string url = body["presigned_url"];
    EXPECT_EQ(url.rfind("https://api.example.com/v1/files/live/files/abc/url-to-pdf/"
                        "example-com_20260101T000000Z_1.pdf?expires=",
                        0),
              0u);
    body.erase("presigned_url");
    EXPECT_EQ(body,
              (json{{"success", true},
                    {"job_id", "job_1"},
                    {"status", "completed"},
                    {"url", "https://example.com"},
                    {"object_key", "live/files/abc/url-to-pdf/example-com_20260101T000000Z_1.pdf"},
                    {"filename", "example-com.pdf"},
                    {"file_size", 184320},
                    {"conversion_time", 3.72},
                    {"conversion_time_seconds", 3.72}}));
}

TEST(Responses, SyncFailureIs422Or504) {
    const auto a = api::sync_answer(one_task_job("failed"), kPresigner, false);
    EXPECT_EQ(a.status, 422);
    EXPECT_EQ(json::parse(a.body), (json{{"success", false},
                                         {"error", "dns_error"},
                                         {"detail", "Failed to load page: host not found"},
                                         {"job_id", "job_1"}}));
    auto job = one_task_job("failed");
    job.tasks[0].error_code = "timeout";
    EXPECT_EQ(api::sync_answer(job, kPresigner, false).status, 504);
}

TEST(Responses, DirectDownloadRedirects) {
    const auto a = api::sync_answer(one_task_job("success"), kPresigner, true);
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.content_type, "application/pdf");
    EXPECT_EQ(a.internal_redirect, "live/files/abc/url-to-pdf/example-com_20260101T000000Z_1.pdf");
    EXPECT_TRUE(a.body.empty());
    using H = std::pair<std::string, std::string>;
    EXPECT_EQ(a.headers,
              (std::vector<H>{
                  {"Content-Disposition", "attachment; filename=\"example-com.pdf\""},
                  {"X-Job-Id", "job_1"},
                  {"X-Object-Key", "live/files/abc/url-to-pdf/example-com_20260101T000000Z_1.pdf"},
                  {"X-File-Size", "184320"},
                  {"X-Conversion-Time", "3.72"}}));
    auto shot = one_task_job("success");
    shot.endpoint = "url-to-screenshot";
    shot.options = json{{"image_format", "webp"}};
    EXPECT_EQ(api::sync_answer(shot, kPresigner, true).content_type, "image/webp");
}

TEST(Responses, DirectDownloadFromS3RedirectsToTheObjectStore) {
    const storage::Presigner s3(
        storage::S3UrlSigner(storage::S3Endpoint("http://127.0.0.1:9000", "results", true),
                             "us-east-1", {"id", "secret"}),
        3600);
    const auto a = api::sync_answer(one_task_job("success"), s3, true);
    EXPECT_EQ(a.status, 302);
    EXPECT_FALSE(a.internal_redirect);
    ASSERT_EQ(a.headers.size(), 5u);
    EXPECT_EQ(a.headers[0], (std::pair<std::string, std::string>{"X-Job-Id", "job_1"}));
    EXPECT_EQ(a.headers[4].first, "Location");
    const std::string& location = a.headers[4].second;
    EXPECT_EQ(location.rfind("http://127.0.0.1:9000/results/live/files/abc/url-to-pdf/", 0), 0u);
    EXPECT_NE(location.find("response-content-disposition=attachment%3B%20filename%3D%22"
                            "example-com.pdf%22"),
              std::string::npos);
    // The body is the JSON result, for clients that do not follow redirects.
    const json body = json::parse(a.body);
    EXPECT_EQ(body["presigned_url"], location);
    EXPECT_EQ(body["filename"], "example-com.pdf");
}

TEST(Responses, S3LinksInSyncAndStatusAnswers) {
    const storage::Presigner s3(
        storage::S3UrlSigner(storage::S3Endpoint("http://127.0.0.1:9000", "results", true),
                             "us-east-1", {"id", "secret"}),
        3600);
    const auto job = one_task_job("success");
    const json sync = json::parse(api::sync_answer(job, s3, false).body);
    EXPECT_EQ(sync["presigned_url"].get<std::string>().rfind("http://127.0.0.1:9000/results/", 0),
              0u);
    const json status = api::status_object(job, s3);
    EXPECT_NE(status["tasks"][0]["presigned_url"].get<std::string>().find("X-Amz-Signature="),
              std::string::npos);
}

TEST(Responses, StatusObject) {
    db::JobView job = one_task_job("success");
    job.status = "processing";
    job.completed_at.reset();
    db::TaskView failed;
    failed.url = "https://invalid-url.example";
    failed.status = "failed";
    failed.error = "Failed to load page: net::ERR_NAME_NOT_RESOLVED";
    job.tasks.push_back(failed);
    db::TaskView pending;
    pending.url = "https://example.com/3";
    pending.status = "pending";
    job.tasks.push_back(pending);

    json s = api::status_object(job, kPresigner);
    EXPECT_TRUE(s["tasks"][0]["presigned_url"].is_string());
    s["tasks"][0].erase("presigned_url");
    EXPECT_EQ(
        s, (json{{"job_id", "job_1"},
                 {"status", "processing"},
                 {"total_tasks", 3},
                 {"completed_tasks", 1},
                 {"failed_tasks", 1},
                 {"tasks",
                  {{{"url", "https://example.com"},
                    {"status", "success"},
                    {"object_key", "live/files/abc/url-to-pdf/example-com_20260101T000000Z_1.pdf"},
                    {"file_size", 184320},
                    {"conversion_time", 3.72}},
                   {{"url", "https://invalid-url.example"},
                    {"status", "failed"},
                    {"error", "Failed to load page: net::ERR_NAME_NOT_RESOLVED"}},
                   {{"url", "https://example.com/3"}, {"status", "pending"}}}},
                 {"created_at", "2026-01-01T00:00:00Z"},
                 {"completed_at", nullptr},
                 {"notifications", json::array()}}));
}

TEST(Responses, StatusObjectOfAWebsiteCaptureCarriesItsDiscovery) {
    db::JobView job;
    job.id = "batch_1";
    job.endpoint = "website-to-pdf";
    job.status = "failed";
    job.is_batch = true;
    job.created_at = "2026-01-01T00:00:00Z";
    job.completed_at = "2026-01-01T00:00:09Z";
    job.discovery_state = "failed";
    job.discovery_method = "sitemap";
    job.discovery_error_code = "no_sitemap";
    job.discovery_error = "No sitemap was found.";
    job.options = {{"url", "https://example.com/"}};
    const json s = api::status_object(job, kPresigner);
    EXPECT_EQ(s["status"], "failed");
    // No page was found: the submitted URL is reported failed, with the
    // reason, as the webhook and the email report it (before: no task, and
    // the payload named neither the URL nor the reason).
    EXPECT_EQ(s["total_tasks"], 1);
    EXPECT_EQ(s["failed_tasks"], 1);
    EXPECT_EQ(s["completed_tasks"], 0);
    EXPECT_EQ(s["tasks"], (json::array({{{"url", "https://example.com/"},
                                         {"status", "failed"},
                                         {"error", "No sitemap was found."}}})));
    EXPECT_EQ(s["discovery"]["state"], "failed");
    EXPECT_EQ(s["discovery"]["error_code"], "no_sitemap");
    EXPECT_EQ(s["discovery"]["error"], "No sitemap was found.");
    // Other jobs have no such field.
    EXPECT_FALSE(api::status_object(one_task_job("success"), kPresigner).contains("discovery"));
}

TEST(Responses, Health) {
    const auto ok = api::health_answer(true);
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(json::parse(ok.body),
              (json{{"status", "ok"}, {"nginx", "ok"}, {"worker", "ok"}, {"database", "ok"}}));
    const auto down = api::health_answer(false);
    EXPECT_EQ(down.status, 503);
    EXPECT_EQ(json::parse(down.body)["database"], "down");
    ASSERT_EQ(down.headers.size(), 1u);
    EXPECT_EQ(down.headers[0].first, "Retry-After");
}

TEST(Responses, IdempotencyConflictIs409NamingTheHeader) {
    const auto a = api::idempotency_conflict_answer();
    EXPECT_EQ(a.status, 409);
    const json body = json::parse(a.body);
    EXPECT_EQ(body["success"], false);
    EXPECT_EQ(body["error"], "idempotency_conflict");
    EXPECT_EQ(body["detail"],
              "This Idempotency-Key was already used with a different request body.");
    EXPECT_EQ(body["field"], "Idempotency-Key");
}

TEST(Responses, QueueFullIs429ForTheAccountAnd503ForEveryone) {
    const auto account = api::queue_full_answer(db::QueueBound::account, 10000, 3);
    EXPECT_EQ(account.status, 429);
    ASSERT_EQ(account.headers.size(), 1u);
    EXPECT_EQ(account.headers[0], (std::pair<std::string, std::string>{"Retry-After", "30"}));
    const json body = json::parse(account.body);
    EXPECT_EQ(body["success"], false);
    EXPECT_EQ(body["error"], "queue_full");
    EXPECT_EQ(body["detail"],
              "Your account's queue has no room for this request's 3 URLs: an account may have "
              "at most 10000 unfinished tasks. Nothing was queued; retry after the Retry-After "
              "delay.");

    const auto global = api::queue_full_answer(db::QueueBound::global, 100000, 1);
    EXPECT_EQ(global.status, 503);
    ASSERT_EQ(global.headers.size(), 1u);  // not the generic 503's 5 s as well
    EXPECT_EQ(global.headers[0], (std::pair<std::string, std::string>{"Retry-After", "30"}));
    EXPECT_EQ(json::parse(global.body)["detail"],
              "The service's queue has no room for this request's 1 URL: it holds at most "
              "100000 unfinished tasks. Nothing was queued; retry after the Retry-After delay.");

    // A request that can never fit says so instead of inviting a retry.
    const auto too_big = api::queue_full_answer(db::QueueBound::account, 5, 8);
    EXPECT_NE(json::parse(too_big.body)["detail"].get<std::string>().find(
                  "send the URLs in smaller requests"),
              std::string::npos);
}
