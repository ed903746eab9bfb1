#include "api/client_answers.h"

#include <gtest/gtest.h>

using namespace enconvert;
using nlohmann::json;

namespace {

db::TaskView task(const std::string& status, int position) {
    db::TaskView t;
    t.position = position;
    t.url = "https://example.com/" + std::to_string(position);
    t.status = status;
    if (status == "success") {
        t.object_key =
            "live/files/abc/url-to-pdf/x_20260101T000000Z_" + std::to_string(position) + ".pdf";
        t.filename = "x.pdf";
        t.file_size = 100;
        t.conversion_time = 1.5;
    } else if (status == "failed") {
        t.error_code = "http_error";
        t.error = "The page answered 404.";
    }
    return t;
}

db::JobView job_of(std::vector<std::string> statuses, std::string job_status) {
    db::JobView job;
    job.id = "batch_1";
    job.endpoint = "url-to-pdf";
    job.status = std::move(job_status);
    job.base_url = "https://api.example.com";
    for (std::size_t i = 0; i < statuses.size(); ++i)
        job.tasks.push_back(task(statuses[i], static_cast<int>(i)));
    return job;
}

const storage::Presigner kPresigner("secret", "", 3600);

db::ApiKeyIdentity identity() {
    db::ApiKeyIdentity id;
    id.account_id = 7;
    id.account_public_id = "abc";
    return id;
}

}  // namespace

TEST(ClientAnswers, BatchStatusFromTheTasks) {
    const auto status = [](std::vector<std::string> s, const char* job) {
        return json::parse(api::batch_answer(job_of(std::move(s), job), kPresigner).body)["status"];
    };
    EXPECT_EQ(status({"success", "pending"}, "processing"), "processing");
    EXPECT_EQ(status({"success", "success"}, "completed"), "completed");
    EXPECT_EQ(status({"failed", "failed"}, "failed"), "failed");
    EXPECT_EQ(status({"success", "failed"}, "completed"), "partial");
}

TEST(ClientAnswers, BatchItems) {
    const json b = json::parse(
        api::batch_answer(job_of({"success", "failed", "processing"}, "processing"), kPresigner)
            .body);
    EXPECT_EQ(b["batch_id"], "batch_1");
    EXPECT_EQ(b["total"], 3);
    EXPECT_EQ(b["completed"], 1);
    EXPECT_EQ(b["failed"], 1);
    EXPECT_EQ(b["in_progress"], 1);
    EXPECT_EQ(b["output_mode"], "individual");
    EXPECT_TRUE(b["zip_download_url"].is_null());
    EXPECT_EQ(b["items"][0]["status"], "Success");
    EXPECT_EQ(b["items"][0]["duration"], "1.50");
    EXPECT_EQ(b["items"][0]["output_file_size"], 100);
    EXPECT_EQ(b["items"][0]["download_url"].get<std::string>().rfind("https://api.example.com/", 0),
              0u);
    EXPECT_EQ(b["items"][1]["status"], "Failed");
    EXPECT_EQ(b["items"][1]["error"], "The page answered 404.");
    EXPECT_TRUE(b["items"][1]["download_url"].is_null());
    EXPECT_EQ(b["items"][2]["status"], "In Progress");
}

TEST(ClientAnswers, BatchZip) {
    const auto answer = [](const db::JobView& job) {
        return json::parse(api::batch_answer(job, kPresigner).body);
    };
    db::JobView job = job_of({"success", "success"}, "processing");
    job.is_batch = true;
    job.options = {{"output_format", "zip"}};
    // Every task done, the ZIP still being made: still processing.
    job.zip_state = "pending";
    json b = answer(job);
    EXPECT_EQ(b["status"], "processing");
    EXPECT_EQ(b["output_mode"], "zip");
    EXPECT_TRUE(b["zip_download_url"].is_null());
    EXPECT_TRUE(b["zip_error"].is_null());

    job.status = "completed";
    job.zip_state = "done";
    job.zip_object_key = "live/files/abc/url-to-pdf/batch_20260101T000000Z_batch_1.zip";
    b = answer(job);
    EXPECT_EQ(b["status"], "completed");
    EXPECT_EQ(b["output_mode"], "zip");
    const std::string link = b["zip_download_url"].get<std::string>();
    EXPECT_EQ(link.rfind("https://api.example.com/", 0), 0u);
    EXPECT_NE(link.find("batch_20260101T000000Z_batch_1.zip"), std::string::npos);
    EXPECT_TRUE(b["zip_error"].is_null());

    // output_format true asks for the same.
    job.options = {{"output_format", true}};
    EXPECT_EQ(answer(job)["output_mode"], "zip");

    // No ZIP in the end: "individual", so the CLI fetches the files one by
    // one instead of downloading a null link; the reason is in zip_error.
    job.zip_state = "failed";
    job.zip_object_key.reset();
    job.zip_error = "The ZIP of the results could not be stored: disk full.";
    b = answer(job);
    EXPECT_EQ(b["output_mode"], "individual");
    EXPECT_TRUE(b["zip_download_url"].is_null());
    EXPECT_EQ(b["zip_error"], "The ZIP of the results could not be stored: disk full.");
    EXPECT_FALSE(b["items"][0]["download_url"].is_null());
}

TEST(ClientAnswers, ClientStatusVocabulary) {
    auto job = job_of({"success"}, "completed");
    job.is_sync = true;
    job.client_id = "0123";
    EXPECT_TRUE(api::answers_as_client_job(job));
    json s = json::parse(api::client_status_answer(job, kPresigner).body);
    EXPECT_EQ(s["status"], "success");
    EXPECT_EQ(s["object_key"], job.tasks[0].object_key.value());
    EXPECT_EQ(s["conversion_time_seconds"], 1.5);
    auto failed = job_of({"failed"}, "failed");
    s = json::parse(api::client_status_answer(failed, kPresigner).body);
    EXPECT_EQ(s["status"], "failed");
    EXPECT_EQ(s["error"], "The page answered 404.");
    auto running = job_of({"processing"}, "processing");
    EXPECT_EQ(json::parse(api::client_status_answer(running, kPresigner).body)["status"],
              "processing");
    job.is_batch = true;
    EXPECT_FALSE(api::answers_as_client_job(job));
    job.is_batch = false;
    job.client_id.reset();
    EXPECT_FALSE(api::answers_as_client_job(job));
}

TEST(ClientAnswers, ClientStatusShowsTheNotificationsOutcomes) {
    // "Both outcomes are recorded and shown by the status endpoint": before,
    // a sync job started with a client job_id answered without them.
    auto job = job_of({"success"}, "completed");
    job.is_sync = true;
    job.client_id = "0123";
    const json notes = json::array({{{"type", "webhook"},
                                     {"target", "https://hooks.example.com/x"},
                                     {"state", "delivered"},
                                     {"response_code", 200},
                                     {"error", nullptr},
                                     {"attempts", 1}}});
    job.notifications = notes;
    EXPECT_EQ(json::parse(api::client_status_answer(job, kPresigner).body)["notifications"], notes);
    auto running = job_of({"processing"}, "processing");
    running.notifications = notes;
    EXPECT_EQ(json::parse(api::client_status_answer(running, kPresigner).body)["notifications"],
              notes);
    // None asked: the clients' answer as it was.
    job.notifications = json::array();
    EXPECT_FALSE(
        json::parse(api::client_status_answer(job, kPresigner).body).contains("notifications"));
}

TEST(ClientAnswers, DownloadOnlyOwnFiles) {
    const std::string mine = "live/files/abc/url-to-pdf/x_20260101T000000Z_1.pdf";
    const auto a = api::download_answer(identity(), mine, kPresigner);
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.internal_redirect.value_or(""), mine);
    ASSERT_EQ(a.headers.size(), 2u);
    EXPECT_EQ(a.headers[1].second, "x_20260101T000000Z_1.pdf");
    for (const std::string other :
         {"live/files/abd/url-to-pdf/x_1.pdf", "live/files/abc/", "live/files/abc/../x.pdf",
          "live/files/abcd/url-to-pdf/x.pdf"}) {
        EXPECT_EQ(api::download_answer(identity(), other, kPresigner).status, 404) << other;
    }
}

TEST(ClientAnswers, WhoamiAndVerify) {
    EXPECT_EQ(json::parse(api::whoami_answer(identity()).body),
              (json{{"project_id", "abc"}, {"plan_slug", "self-hosted"}}));
    const json v = json::parse(api::verify_answer(identity()).body);
    EXPECT_EQ(v["authenticated"], true);
    EXPECT_EQ(v["key_type"], "private");
}

TEST(ClientAnswers, WebsiteBatchWhileItsPagesAreFound) {
    db::JobView job = job_of({}, "processing");
    job.endpoint = "website-to-pdf";
    job.is_batch = true;
    job.options = {{"url", "https://example.com/"}, {"output_format", "zip"}};
    job.discovery_state = "pending";
    const json b = json::parse(api::batch_answer(job, kPresigner).body);
    EXPECT_EQ(b["status"], "processing");
    EXPECT_EQ(b["total"], 0);
    EXPECT_EQ(b["output_mode"], "zip");
    EXPECT_TRUE(b["items"].empty());
    EXPECT_EQ(b["discovery"]["state"], "pending");
    EXPECT_TRUE(b["total_discovered"].is_null());
    EXPECT_TRUE(b["discovery_method"].is_null());
}

TEST(ClientAnswers, WebsiteBatchShowsWhatWasFoundAndTheProgress) {
    db::JobView job = job_of({"success", "failed", "pending"}, "processing");
    job.endpoint = "website-to-pdf";
    job.is_batch = true;
    job.options = {{"url", "https://example.com/"}, {"output_format", "zip"}};
    job.discovery_state = "done";
    job.discovery_method = "full_crawl";
    job.discovery_total = 12;
    job.discovery_truncated = true;
    const json b = json::parse(api::batch_answer(job, kPresigner).body);
    EXPECT_EQ(b["status"], "processing");
    EXPECT_EQ(b["total"], 3);
    EXPECT_EQ(b["completed"], 1);
    EXPECT_EQ(b["failed"], 1);
    EXPECT_EQ(b["in_progress"], 1);
    EXPECT_EQ(b["total_discovered"], 12);
    EXPECT_EQ(b["discovery_method"], "full_crawl");
    EXPECT_EQ(b["discovery"]["state"], "done");
    EXPECT_EQ(b["discovery"]["truncated"], true);
    EXPECT_EQ(b["discovery"]["total_discovered"], 12);
}

TEST(ClientAnswers, WebsiteBatchThatFoundNothingFailed) {
    db::JobView job = job_of({}, "failed");
    job.endpoint = "website-to-pdf";
    job.is_batch = true;
    job.options = {{"url", "https://example.com/"}, {"output_format", "zip"}};
    job.discovery_state = "failed";
    job.discovery_method = "sitemap";
    job.discovery_error_code = "no_sitemap";
    job.discovery_error = "No sitemap was found.";
    const json b = json::parse(api::batch_answer(job, kPresigner).body);
    EXPECT_EQ(b["status"], "failed");
    EXPECT_EQ(b["total"], 0);
    // No ZIP will come.
    EXPECT_EQ(b["output_mode"], "individual");
    EXPECT_TRUE(b["zip_download_url"].is_null());
    EXPECT_EQ(b["discovery"]["state"], "failed");
    EXPECT_EQ(b["discovery"]["error_code"], "no_sitemap");
    EXPECT_EQ(b["discovery"]["error"], "No sitemap was found.");
    EXPECT_EQ(b["discovery_method"], "sitemap");
    EXPECT_TRUE(b["total_discovered"].is_null());
}

TEST(ClientAnswers, AnOrdinaryBatchHasNoDiscoveryFields) {
    const json b =
        json::parse(api::batch_answer(job_of({"success"}, "completed"), kPresigner).body);
    EXPECT_FALSE(b.contains("discovery"));
    EXPECT_FALSE(b.contains("total_discovered"));
    EXPECT_FALSE(b.contains("discovery_method"));
}
