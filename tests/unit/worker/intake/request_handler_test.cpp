#include "intake/request_handler.h"

#include <gtest/gtest.h>

#include <sstream>

#include "../db/pg_fixture.h"
#include "admin/key_command.h"
#include "db/job_repository.h"

using namespace enconvert;
using nlohmann::json;

namespace {

class RequestHandlerTest : public test_support::PgTest {
  protected:
    void SetUp() override {
        test_support::PgTest::SetUp();
        if (HasFatalFailure()) return;
        conn_ = std::make_unique<pqxx::connection>(url());
        std::ostringstream out;
        acme_key_ = admin::create_key(*conn_, "acme", out);
        other_key_ = admin::create_key(*conn_, "other", out);
    }

    intake::ConvertRequest convert(const std::string& key, bool async) {
        intake::ConvertRequest r;
        r.key = key;
        r.base_url = "http://localhost:8080";
        r.endpoint = "url-to-pdf";
        r.urls = {"https://example.com"};
        r.async = async;
        r.options = json::object();
        return r;
    }

    std::unique_ptr<pqxx::connection> conn_;
    std::string acme_key_;
    std::string other_key_;
    intake::RequestHandler handler_{storage::Presigner("secret", "", 3600)};
};

}  // namespace

TEST_F(RequestHandlerTest, InvalidKeyIs401AndEnqueuesNothing) {
    const auto out = handler_.convert(*conn_, convert("sk_live_" + std::string(40, 'x'), true));
    ASSERT_TRUE(out.final);
    EXPECT_EQ(out.final->status, 401);
    EXPECT_EQ(json::parse(out.final->body)["error"], "invalid_api_key");
    pqxx::nontransaction tx(*conn_);
    EXPECT_EQ(tx.exec("SELECT count(*) FROM jobs")[0][0].as<int>(), 0);
}

TEST_F(RequestHandlerTest, AsyncConvertThenStatus) {
    auto req = convert(acme_key_, true);
    req.options = {{"notification_email", "team@yourcompany.com"}};
    const auto out = handler_.convert(*conn_, req);
    ASSERT_TRUE(out.final);
    EXPECT_EQ(out.final->status, 202);
    const json body = json::parse(out.final->body);
    EXPECT_EQ(body["message"],
              "Job queued. You will be notified at team@yourcompany.com when complete.");
    const std::string job_id = body["job_id"];
    EXPECT_EQ(job_id.rfind("job_", 0), 0u);

    const auto st = handler_.status(*conn_, {acme_key_, "http://localhost:8080", job_id});
    EXPECT_EQ(st.status, 200);
    const json s = json::parse(st.body);
    EXPECT_EQ(s["job_id"], job_id);
    EXPECT_EQ(s["total_tasks"], 1);
    EXPECT_EQ(s["tasks"][0]["status"], "pending");

    const auto other = handler_.status(*conn_, {other_key_, "http://localhost:8080", job_id});
    EXPECT_EQ(other.status, 404);
    EXPECT_EQ(json::parse(other.body)["error"], "job_not_found");
    const auto unknown = handler_.status(*conn_, {acme_key_, "http://h", "job_nope"});
    EXPECT_EQ(unknown.body, other.body);  // indistinguishable
}

TEST_F(RequestHandlerTest, BatchIsAlwaysAsync) {
    auto req = convert(acme_key_, false);
    req.batch = true;
    req.urls = {"https://a", "https://b"};
    const auto out = handler_.convert(*conn_, req);
    ASSERT_TRUE(out.final);
    EXPECT_EQ(out.final->status, 202);
    EXPECT_EQ(json::parse(out.final->body)["job_id"].get<std::string>().rfind("batch_", 0), 0u);
}

TEST_F(RequestHandlerTest, SyncConvertWaitsThenAnswers) {
    auto req = convert(acme_key_, false);
    req.options = {{"direct_download", true}};
    const auto out = handler_.convert(*conn_, req);
    EXPECT_FALSE(out.final);
    ASSERT_TRUE(out.job_id);
    EXPECT_TRUE(out.direct_download);
    EXPECT_FALSE(handler_.sync_result(*conn_, *out.job_id, out.account_id, false));

    const auto claimed = db::claim_tasks(*conn_, "w", 300, 10);
    ASSERT_EQ(claimed.size(), 1u);
    db::TaskOutcome o;
    o.task_id = claimed[0].task_id;
    o.ok = true;
    o.object_key = "live/files/x/url-to-pdf/example-com_1.pdf";
    o.filename = "example-com.pdf";
    o.file_size = 100;
    o.conversion_time = 0.5;
    ASSERT_TRUE(db::finish_task(*conn_, "w", o).job_terminal);

    const auto json_answer = handler_.sync_result(*conn_, *out.job_id, out.account_id, false);
    ASSERT_TRUE(json_answer);
    EXPECT_EQ(json_answer->status, 200);
    EXPECT_EQ(json::parse(json_answer->body)["filename"], "example-com.pdf");
    const auto file = handler_.sync_result(*conn_, *out.job_id, out.account_id, true);
    ASSERT_TRUE(file);
    EXPECT_EQ(file->internal_redirect, o.object_key);
}

TEST_F(RequestHandlerTest, IdempotentReplayReturnsSameJob) {
    auto req = convert(acme_key_, true);
    req.idempotency_key = "k1";
    const auto a = handler_.convert(*conn_, req);
    const auto b = handler_.convert(*conn_, req);
    ASSERT_TRUE(a.final && b.final);
    EXPECT_EQ(json::parse(a.final->body)["job_id"], json::parse(b.final->body)["job_id"]);
}

TEST_F(RequestHandlerTest, SameKeyDifferentBodyIs409AndEnqueuesNothing) {
    auto req = convert(acme_key_, true);
    req.idempotency_key = "k2";
    const auto first = handler_.convert(*conn_, req);
    ASSERT_TRUE(first.final);
    EXPECT_EQ(first.final->status, 202);

    auto changed = req;
    changed.options = {{"viewport_width", 800}};
    const auto second = handler_.convert(*conn_, changed);
    ASSERT_TRUE(second.final);
    EXPECT_EQ(second.final->status, 409);
    const json body = json::parse(second.final->body);
    EXPECT_EQ(body["error"], "idempotency_conflict");
    EXPECT_EQ(body["detail"],
              "This Idempotency-Key was already used with a different request body.");
    EXPECT_FALSE(second.job_id);

    auto sync_instead = req;
    sync_instead.async = false;  // the mode is part of the request
    EXPECT_EQ(handler_.convert(*conn_, sync_instead).final->status, 409);

    // The same key stays usable by another account.
    auto theirs = changed;
    theirs.key = other_key_;
    EXPECT_EQ(handler_.convert(*conn_, theirs).final->status, 202);
    pqxx::nontransaction tx(*conn_);
    EXPECT_EQ(tx.exec("SELECT count(*) FROM jobs")[0][0].as<int>(), 2);
    EXPECT_EQ(tx.exec("SELECT count(*) FROM tasks")[0][0].as<int>(), 2);
}

TEST_F(RequestHandlerTest, SyncReplayWaitsForTheSameJobThenGetsTheSameResult) {
    auto req = convert(acme_key_, false);
    req.idempotency_key = "sync-1";
    const auto first = handler_.convert(*conn_, req);
    ASSERT_FALSE(first.final);
    ASSERT_TRUE(first.job_id);

    // Retry while the first is still processing: wait for the same job.
    const auto running = handler_.convert(*conn_, req);
    EXPECT_FALSE(running.final);
    EXPECT_EQ(running.job_id, first.job_id);
    EXPECT_EQ(running.account_id, first.account_id);

    const auto claimed = db::claim_tasks(*conn_, "w", 300, 10);
    ASSERT_EQ(claimed.size(), 1u);
    db::TaskOutcome o;
    o.task_id = claimed[0].task_id;
    o.ok = true;
    o.object_key = "live/files/x/url-to-pdf/example-com_1.pdf";
    o.filename = "example-com.pdf";
    o.file_size = 100;
    o.conversion_time = 0.5;
    ASSERT_TRUE(db::finish_task(*conn_, "w", o).job_terminal);

    // Retry after it finished: the same 200 result, at once.
    const auto done = handler_.convert(*conn_, req);
    ASSERT_TRUE(done.final);
    EXPECT_EQ(done.final->status, 200);
    const json body = json::parse(done.final->body);
    EXPECT_EQ(body["job_id"], *first.job_id);
    EXPECT_EQ(body["object_key"], o.object_key);
    EXPECT_EQ(done.job_id, first.job_id);
    pqxx::nontransaction tx(*conn_);
    EXPECT_EQ(tx.exec("SELECT count(*) FROM jobs")[0][0].as<int>(), 1);
}

TEST_F(RequestHandlerTest, SyncReplayOfFailedJobGetsTheSameError) {
    auto req = convert(acme_key_, false);
    req.idempotency_key = "sync-2";
    const auto first = handler_.convert(*conn_, req);
    ASSERT_TRUE(first.job_id);
    const auto claimed = db::claim_tasks(*conn_, "w", 300, 10);
    ASSERT_EQ(claimed.size(), 1u);
    db::TaskOutcome o;
    o.task_id = claimed[0].task_id;
    o.error_code = "timeout";
    o.error = "The page did not finish loading in time.";
    ASSERT_TRUE(db::finish_task(*conn_, "w", o).job_terminal);
    const auto again = handler_.convert(*conn_, req);
    ASSERT_TRUE(again.final);
    EXPECT_EQ(again.final->status, 504);
    EXPECT_EQ(json::parse(again.final->body)["error"], "timeout");
    EXPECT_EQ(json::parse(again.final->body)["job_id"], *first.job_id);
}

TEST_F(RequestHandlerTest, FullQueueRefusesNewJobsButAnswersReplays) {
    // Room for 2 tasks per account and 3 in all.
    intake::RequestHandler bounded(storage::Presigner("secret", "", 3600), db::QueueLimits{3, 2});
    auto batch = convert(acme_key_, true);
    batch.batch = true;
    batch.urls = {"https://a", "https://b"};
    batch.idempotency_key = "full-1";
    const auto first = bounded.convert(*conn_, batch);
    ASSERT_TRUE(first.final);
    ASSERT_EQ(first.final->status, 202);

    // The account's bound: 429, and a sync request is refused at once too.
    const auto account_full = bounded.convert(*conn_, convert(acme_key_, false));
    ASSERT_TRUE(account_full.final);
    EXPECT_EQ(account_full.final->status, 429);
    EXPECT_EQ(json::parse(account_full.final->body)["error"], "queue_full");
    EXPECT_EQ(account_full.final->headers,
              (decltype(account_full.final->headers){{"Retry-After", "30"}}));
    EXPECT_FALSE(account_full.job_id);

    // Everyone's bound: 503.
    EXPECT_EQ(bounded.convert(*conn_, convert(other_key_, true)).final->status, 202);
    const auto global_full = bounded.convert(*conn_, convert(other_key_, true));
    ASSERT_TRUE(global_full.final);
    EXPECT_EQ(global_full.final->status, 503);
    EXPECT_EQ(json::parse(global_full.final->body)["error"], "queue_full");

    // A retry of the first request still gets its job.
    const auto replay = bounded.convert(*conn_, batch);
    ASSERT_TRUE(replay.final);
    EXPECT_EQ(replay.final->status, 202);
    EXPECT_EQ(json::parse(replay.final->body)["job_id"], json::parse(first.final->body)["job_id"]);
    pqxx::nontransaction tx(*conn_);
    EXPECT_EQ(tx.exec("SELECT count(*) FROM jobs")[0][0].as<int>(), 2);
    EXPECT_EQ(tx.exec("SELECT count(*) FROM tasks")[0][0].as<int>(), 3);
}
