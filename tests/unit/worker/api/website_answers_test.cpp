#include "api/website_answers.h"

#include <gtest/gtest.h>

using namespace enconvert;
using nlohmann::json;

namespace {

db::JobView website_job(const std::string& discovery_state) {
    db::JobView job;
    job.id = "batch_0123";
    job.endpoint = "website-to-pdf";
    job.status = "processing";
    job.is_batch = true;
    job.base_url = "https://api.example.com";
    job.options = {{"url", "https://example.com/"}, {"output_format", "zip"}};
    job.discovery_state = discovery_state;
    return job;
}

db::JobView found(std::size_t pages, std::int64_t total, bool truncated,
                  const std::string& method = "sitemap") {
    db::JobView job = website_job("done");
    for (std::size_t i = 0; i < pages; ++i) {
        db::TaskView t;
        t.position = static_cast<int>(i);
        t.url = "https://example.com/p" + std::to_string(i);
        t.status = "pending";
        job.tasks.push_back(t);
    }
    job.discovery_method = method;
    job.discovery_total = total;
    job.discovery_truncated = truncated;
    return job;
}

db::JobView failed(const std::optional<std::string>& code,
                   const std::optional<std::string>& error) {
    db::JobView job = website_job("failed");
    job.status = "failed";
    job.completed_at = "2026-01-01T00:00:00Z";
    job.discovery_method = "sitemap";
    job.discovery_error_code = code;
    job.discovery_error = error;
    return job;
}

}  // namespace

TEST(WebsiteAnswers, NoAnswerWhileTheDiscoveryIsPending) {
    EXPECT_FALSE(api::website_answer(website_job("pending")));
    // A job that is no website capture has no such answer either.
    EXPECT_FALSE(api::website_answer(website_job("")));
}

TEST(WebsiteAnswers, FoundPagesAre202WithWhatWasFound) {
    const auto a = api::website_answer(found(3, 3, false));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->status, 202);
    const json b = json::parse(a->body);
    EXPECT_EQ(b["success"], true);
    EXPECT_EQ(b["status"], "processing");
    EXPECT_EQ(b["job_id"], "batch_0123");
    EXPECT_EQ(b["batch_id"], "batch_0123");
    EXPECT_EQ(b["url_count"], 3);
    EXPECT_EQ(b["total_discovered"], 3);
    EXPECT_EQ(b["discovery_method"], "sitemap");
    EXPECT_EQ(b["truncated"], false);
    EXPECT_EQ(b["output_format"], "zip");
    const std::string message = b["message"];
    EXPECT_NE(message.find("3 pages"), std::string::npos) << message;
    EXPECT_NE(message.find("/v1/convert/batch/batch_0123"), std::string::npos) << message;
    EXPECT_EQ(message.find("page limit"), std::string::npos) << message;
}

TEST(WebsiteAnswers, ACutSiteSaysSo) {
    const auto a = api::website_answer(found(100, 250, true, "full_crawl"));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->status, 202);
    const json b = json::parse(a->body);
    EXPECT_EQ(b["url_count"], 100);
    EXPECT_EQ(b["total_discovered"], 250);
    EXPECT_EQ(b["discovery_method"], "full_crawl");
    EXPECT_EQ(b["truncated"], true);
    EXPECT_NE(b["message"].get<std::string>().find("page limit"), std::string::npos);
    // One page is no plural.
    const json one = json::parse(api::website_answer(found(1, 1, false))->body);
    EXPECT_NE(one["message"].get<std::string>().find("1 page found"), std::string::npos)
        << one["message"];
}

TEST(WebsiteAnswers, NothingToCaptureIs400NamingTheJob) {
    for (const std::string code : {"no_sitemap", "no_pages", "invalid_url"}) {
        const auto a = api::website_answer(failed(code, "No sitemap was found."));
        ASSERT_TRUE(a) << code;
        EXPECT_EQ(a->status, 400) << code;
        const json b = json::parse(a->body);
        EXPECT_EQ(b["success"], false);
        EXPECT_EQ(b["error"], code);
        EXPECT_EQ(b["detail"], "No sitemap was found.");
        EXPECT_EQ(b["job_id"], "batch_0123");
    }
}

TEST(WebsiteAnswers, OurOwnFailureIs500) {
    auto a = api::website_answer(failed("internal_error", "The discovery was interrupted."));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->status, 500);
    json b = json::parse(a->body);
    EXPECT_EQ(b["error"], "internal_error");
    EXPECT_EQ(b["detail"], "The discovery was interrupted.");
    EXPECT_EQ(b["job_id"], "batch_0123");
    // Nothing recorded about why: still an answer, and ours to explain.
    a = api::website_answer(failed(std::nullopt, std::nullopt));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->status, 500);
    b = json::parse(a->body);
    EXPECT_EQ(b["error"], "internal_error");
    EXPECT_FALSE(b["detail"].get<std::string>().empty());
}

TEST(WebsiteAnswers, DiscoveryJson) {
    EXPECT_TRUE(api::discovery_json(website_job("")).is_null());
    EXPECT_EQ(api::discovery_json(website_job("pending")), (json{{"state", "pending"},
                                                                 {"method", nullptr},
                                                                 {"total_discovered", nullptr},
                                                                 {"truncated", false},
                                                                 {"error_code", nullptr},
                                                                 {"error", nullptr}}));
    EXPECT_EQ(api::discovery_json(found(2, 7, true, "full_crawl")), (json{{"state", "done"},
                                                                          {"method", "full_crawl"},
                                                                          {"total_discovered", 7},
                                                                          {"truncated", true},
                                                                          {"error_code", nullptr},
                                                                          {"error", nullptr}}));
    EXPECT_EQ(api::discovery_json(failed("no_sitemap", "None.")),
              (json{{"state", "failed"},
                    {"method", "sitemap"},
                    {"total_discovered", nullptr},
                    {"truncated", false},
                    {"error_code", "no_sitemap"},
                    {"error", "None."}}));
}

TEST(WebsiteAnswers, TheMessageNamesWhereTheNotificationsGo) {
    // As every 202 of a job (docs/api.md "202 Accepted"): the email address
    // and/or the callback URL. Before, the website capture's said neither.
    db::JobView job = found(3, 3, false);
    job.notifications = json::array(
        {{{"type", "webhook"}, {"target", "https://hooks.example.com/x"}, {"state", "pending"}},
         {{"type", "email"}, {"target", "site@example.com"}, {"state", "pending"}}});
    std::string message = json::parse(api::website_answer(job)->body)["message"];
    EXPECT_EQ(message,
              "Website capture queued: 3 pages found. You will be notified at site@example.com "
              "when complete. Results will be sent to your callback URL. Poll GET "
              "/v1/convert/batch/batch_0123 for progress; the pages come as one ZIP.");
    job.notifications = json::array(
        {{{"type", "webhook"}, {"target", "https://hooks.example.com/x"}, {"state", "pending"}}});
    message = json::parse(api::website_answer(job)->body)["message"];
    EXPECT_NE(message.find("Results will be sent to your callback URL."), std::string::npos);
    EXPECT_EQ(message.find("notified at"), std::string::npos) << message;
    // Neither asked: no such sentence.
    message = json::parse(api::website_answer(found(3, 3, false))->body)["message"];
    EXPECT_EQ(message,
              "Website capture queued: 3 pages found. Poll GET /v1/convert/batch/batch_0123 for "
              "progress; the pages come as one ZIP.");
}

TEST(WebsiteAnswers, AFailedDiscoveryReportsItsStartUrlFailed) {
    const auto t = api::discovery_failure_task(failed("no_sitemap", "No sitemap was found."));
    ASSERT_TRUE(t);
    EXPECT_EQ(t->url, "https://example.com/");
    EXPECT_EQ(t->status, "failed");
    EXPECT_EQ(t->error_code, "no_sitemap");
    EXPECT_EQ(t->error, "No sitemap was found.");
    // Nothing recorded about why: still a code and a sentence.
    const auto bare = api::discovery_failure_task(failed(std::nullopt, std::nullopt));
    ASSERT_TRUE(bare);
    EXPECT_EQ(bare->error_code, "internal_error");
    EXPECT_FALSE(bare->error->empty());
    // Found pages, still finding, or no website capture: the job's own tasks.
    EXPECT_FALSE(api::discovery_failure_task(found(2, 2, false)));
    EXPECT_FALSE(api::discovery_failure_task(website_job("pending")));
    EXPECT_FALSE(api::discovery_failure_task(website_job("")));
}
