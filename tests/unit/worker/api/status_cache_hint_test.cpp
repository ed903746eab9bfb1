#include "api/status_cache_hint.h"

#include <gtest/gtest.h>

#include "api/responses.h"
#include "db/notification_store.h"

using namespace enconvert;
using nlohmann::json;

namespace {

const storage::Presigner kPresigner("secret", "", 3600);

db::TaskView task(const std::string& status, int position, std::string url = "") {
    db::TaskView t;
    t.position = position;
    t.url = url.empty() ? "https://example.com/" + std::to_string(position) : std::move(url);
    t.status = status;
    if (status == "success") {
        t.object_key = "live/files/abc/url-to-pdf/x_" + std::to_string(position) + ".pdf";
        t.file_size = 100;
        t.conversion_time = 1.5;
    } else if (status == "failed") {
        t.error = "The page answered 404.";
    }
    return t;
}

db::JobView finished_job(std::vector<db::TaskView> tasks) {
    db::JobView job;
    job.id = "batch_1";
    job.endpoint = "url-to-pdf";
    job.status = "completed";
    job.base_url = "https://api.example.com";
    job.created_at = "2026-12-01T00:00:00Z";
    job.completed_at = "2026-12-01T00:00:10Z";
    job.completed_unix = 1'796'083'210;
    job.tasks = std::move(tasks);
    return job;
}

json notification(const std::string& state) {
    return json{{"type", "webhook"}, {"target", "https://hooks.example.com/x"}, {"state", state}};
}

std::optional<api::StatusCacheHint> hint_for(db::JobView job, const json& notes, std::string& body,
                                             const storage::Presigner& p = kPresigner,
                                             std::chrono::seconds retention = {}) {
    job.notifications = notes;
    body = api::status_answer(job, p).body;
    return api::status_cache_hint(job, body, p, retention);
}

}  // namespace

TEST(StatusCacheHint, PointsAtEveryLinkOfAFinishedJobInTaskOrder) {
    const auto job = finished_job({task("success", 0), task("failed", 1), task("success", 2)});
    std::string body;
    const auto hint = hint_for(job, json::array(), body);
    ASSERT_TRUE(hint);
    EXPECT_EQ(hint->link_ttl, 3600);
    EXPECT_EQ(hint->until, 0);
    ASSERT_EQ(hint->links.size(), 2u);
    const auto tasks = json::parse(body)["tasks"];
    for (std::size_t i = 0; i < 2; ++i) {
        const auto& span = hint->links[i];
        const std::string link = body.substr(span.offset, span.length);
        EXPECT_EQ(link, tasks[i * 2]["presigned_url"].get<std::string>());
        const std::string key = *job.tasks[i * 2].object_key;
        EXPECT_EQ(link.substr(0, span.prefix_length), "https://api.example.com/v1/files/" + key);
        EXPECT_EQ(link.substr(span.prefix_length - span.key_length, span.key_length), key);
        EXPECT_EQ(link.substr(span.prefix_length, 9), "?expires=");
    }
    EXPECT_LT(hint->links[0].offset + hint->links[0].length, hint->links[1].offset);
}

TEST(StatusCacheHint, EndsWithTheJobsRetention) {
    std::string body;
    const auto job = finished_job({task("success", 0)});
    const auto hint = hint_for(job, json::array(), body, kPresigner, std::chrono::hours(24));
    ASSERT_TRUE(hint);
    EXPECT_EQ(hint->until, *job.completed_unix + 24 * 3600);
}

TEST(StatusCacheHint, NoneWhileTheAnswerMayStillChange) {
    std::string body;
    auto running = finished_job({task("success", 0), task("pending", 1)});
    running.status = "processing";
    running.completed_unix.reset();
    EXPECT_FALSE(hint_for(running, json::array(), body));

    const auto job = finished_job({task("success", 0)});
    EXPECT_FALSE(hint_for(job, json::array({notification("pending")}), body));
    EXPECT_FALSE(
        hint_for(job, json::array({notification("delivered"), notification("pending")}), body));
    EXPECT_TRUE(hint_for(job, json::array({notification("delivered")}), body));
    EXPECT_TRUE(hint_for(job, json::array({notification("failed")}), body));
    // Settled as interrupted when its notifier's lease ran out: that
    // notifier may still record what became of the attempt.
    auto interrupted = notification("failed");
    interrupted["error"] = db::kInterruptedError;
    EXPECT_FALSE(hint_for(job, json::array({interrupted}), body));

    auto discovering = finished_job({});
    discovering.discovery_state = "pending";
    EXPECT_FALSE(hint_for(discovering, json::array(), body));
}

TEST(StatusCacheHint, NoneForTheObjectStoresLinks) {
    const storage::Presigner s3(
        storage::S3UrlSigner(storage::S3Endpoint("http://127.0.0.1:9000", "results", true),
                             "us-east-1", {"id", "secret"}),
        3600);
    std::string body;
    EXPECT_FALSE(hint_for(finished_job({task("success", 0)}), json::array(), body, s3));
}

TEST(StatusCacheHint, AClientsUrlThatLooksLikeALinkIsNotTakenForOne) {
    // The member name arrives escaped inside the client's string, so the
    // spans still point at the answer's own links.
    const std::string forged =
        "https://example.com/\"presigned_url\":\"https://api.example.com/v1/files/"
        "live/files/abc/url-to-pdf/x_1.pdf?expires=1&signature=00";
    const auto job = finished_job({task("success", 0, forged), task("success", 1)});
    std::string body;
    const auto hint = hint_for(job, json::array(), body);
    ASSERT_TRUE(hint);
    ASSERT_EQ(hint->links.size(), 2u);
    const auto tasks = json::parse(body)["tasks"];
    for (std::size_t i = 0; i < 2; ++i)
        EXPECT_EQ(body.substr(hint->links[i].offset, hint->links[i].length),
                  tasks[i]["presigned_url"].get<std::string>());
}

TEST(StatusCacheHint, NoneWhenALinkIsNotWhereTheJobSaysItIs) {
    const auto job = finished_job({task("success", 0)});
    std::string body = api::status_answer(job, kPresigner).body;
    const auto at = body.find("x_0.pdf", body.find("presigned_url"));
    ASSERT_NE(at, std::string::npos);
    body[at] = 'y';
    EXPECT_FALSE(api::status_cache_hint(job, body, kPresigner, {}));
}
