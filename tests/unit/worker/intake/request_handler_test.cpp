#include "intake/request_handler.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "../db/pg_fixture.h"
#include "admin/key_command.h"
#include "db/job_repository.h"
#include "db/site_discoveries.h"

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

    intake::ConvertRequest website(const std::string& key, json options = json::object()) {
        intake::ConvertRequest r = convert(key, true);
        r.endpoint = "website-to-pdf";
        r.urls = {"https://example.com/docs/"};
        r.batch = true;
        r.options = std::move(options);
        return r;
    }

    long long count(const std::string& sql) {
        pqxx::nontransaction tx(*conn_);
        return tx.exec(sql)[0][0].as<long long>();
    }

    // Claims the one waiting discovery as worker "d" and records `outcome`.
    void discover(const db::DiscoveryOutcome& outcome) {
        const auto claimed = db::claim_discovery(*conn_, "d", 300);
        ASSERT_TRUE(claimed);
        ASSERT_TRUE(db::finish_discovery(*conn_, "d", claimed->job_id, outcome).applied);
    }

    // Claims the one waiting task as worker "w" and records it rendered,
    // which finishes its job.
    db::TaskOutcome render_the_task() {
        db::TaskOutcome o;
        const auto claimed = db::claim_tasks(*conn_, "w", 300, 10);
        EXPECT_EQ(claimed.size(), 1u);
        if (claimed.empty()) return o;
        o.task_id = claimed[0].task_id;
        o.ok = true;
        o.object_key = "live/files/x/url-to-pdf/example-com_1.pdf";
        o.filename = "example-com.pdf";
        o.file_size = 100;
        o.conversion_time = 0.5;
        EXPECT_TRUE(db::finish_task(*conn_, "w", o).job_terminal);
        return o;
    }

    // Records the one task of `job_id` rendered, which finishes the job.
    void render_the_task_of(const std::string& job_id) {
        pqxx::work tx(*conn_);
        tx.exec_params(
            "UPDATE tasks SET status = 'success', object_key = 'live/files/x/a.pdf', "
            "filename = 'a.pdf', file_size = 100, conversion_time = 0.5 WHERE job_id = $1",
            job_id);
        tx.exec_params("UPDATE jobs SET status = 'completed', completed_at = now() WHERE id = $1",
                       job_id);
        tx.commit();
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

    const db::TaskOutcome o = render_the_task();

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

    const db::TaskOutcome o = render_the_task();

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

TEST_F(RequestHandlerTest, AWebsiteCaptureHoldsItsPageLimitInTheQueueUntilItsPagesAreFound) {
    // Room for 150 tasks per account.
    intake::RequestHandler bounded(storage::Presigner("secret", "", 3600), db::QueueLimits{0, 150});
    // No max_pages: the default, 100 pages.
    const auto first = bounded.convert(*conn_, website(acme_key_));
    ASSERT_FALSE(first.final) << first.final->body;
    ASSERT_TRUE(first.job_id);
    // A second capture cannot add its pages past the bound, whatever it
    // holds now (no task at all).
    const auto second = bounded.convert(*conn_, website(acme_key_, {{"max_pages", 60}}));
    ASSERT_TRUE(second.final);
    EXPECT_EQ(second.final->status, 429);
    EXPECT_EQ(json::parse(second.final->body)["error"], "queue_full");
    auto batch = convert(acme_key_, true);
    batch.batch = true;
    batch.urls = std::vector<std::string>(51, "https://example.com/");
    EXPECT_EQ(bounded.convert(*conn_, batch).final->status, 429);
    EXPECT_EQ(bounded.convert(*conn_, website(acme_key_, {{"max_pages", 50}})).final, std::nullopt);
    EXPECT_EQ(count("SELECT count(*) FROM jobs"), 2);

    // The first capture found 3 pages: they take its 100 places.
    db::DiscoveryOutcome o;
    o.urls = {"https://example.com/docs/", "https://example.com/docs/a", "https://example.com/b"};
    o.method = "sitemap";
    o.total_discovered = 3;
    const auto claimed = db::claim_discovery(*conn_, "d", 300);
    ASSERT_TRUE(claimed);
    ASSERT_EQ(claimed->job_id, *first.job_id);
    ASSERT_TRUE(db::finish_discovery(*conn_, "d", claimed->job_id, o).applied);
    EXPECT_EQ(count("SELECT unfinished FROM queue_counts"), 53);
    batch.urls.resize(97);
    EXPECT_EQ(bounded.convert(*conn_, batch).final->status, 202);
    EXPECT_EQ(count("SELECT unfinished FROM queue_counts"), 150);
}

// The refusal names what the capture counted, its max_pages (it said "this
// request's 1 URL ... retry after the Retry-After delay": a capture larger
// than the bound was told to retry for ever).
TEST_F(RequestHandlerTest, AWebsiteCaptureLargerThanTheBoundIsToldToAskForFewerPages) {
    intake::RequestHandler bounded(storage::Presigner("secret", "", 3600), db::QueueLimits{0, 5});
    const auto refused = bounded.convert(*conn_, website(acme_key_, {{"max_pages", 50}}));
    ASSERT_TRUE(refused.final);
    EXPECT_EQ(refused.final->status, 429);
    const std::string detail = json::parse(refused.final->body)["detail"];
    EXPECT_NE(detail.find("this request's 50 URLs"), std::string::npos) << detail;
    EXPECT_NE(detail.find("send the URLs in smaller requests"), std::string::npos) << detail;
    EXPECT_EQ(count("SELECT count(*) FROM jobs"), 0);
}

// Every website field with limits in schema/options.json (the module's
// tables are generated from it): each end taken, one past either refused
// with the module's 400 out_of_range, and nothing created for a refusal.
TEST_F(RequestHandlerTest, WebsiteLimitsOfTheSchemaAreTheIntakes) {
    std::ifstream in(ENCONVERT_OPTIONS_SCHEMA);
    const json body_fields = json::parse(in).at("tables").at("body");
    int probed = 0;
    for (const json& f : body_fields) {
        if (f.value("endpoints", "") != "website" || !f.contains("min")) continue;
        ASSERT_EQ(f.at("type"), "integer") << f;
        const std::string name = f.at("name");
        const long min = f.at("min");
        const long max = f.at("max");
        ++probed;
        for (const long taken : {min, max}) {
            EXPECT_FALSE(handler_.convert(*conn_, website(acme_key_, {{name, taken}})).final)
                << name << " = " << taken;
        }
        for (const json& refused : {json(min - 1), json(max + 1), json("3"), json(2.5)}) {
            const auto out = handler_.convert(*conn_, website(acme_key_, {{name, refused}}));
            ASSERT_TRUE(out.final) << name << " = " << refused << " was taken";
            EXPECT_EQ(out.final->status, 400);
            const json answer = json::parse(out.final->body);
            EXPECT_EQ(answer["error"], "out_of_range") << answer;
            EXPECT_EQ(answer["field"], name);
            EXPECT_FALSE(out.job_id);
        }
    }
    EXPECT_EQ(probed, 2);
    EXPECT_EQ(count("SELECT count(*) FROM jobs"), 2 * probed);
}

TEST_F(RequestHandlerTest, WebsitePatternThatCannotBeUsedIs400AndCreatesNothing) {
    auto req = website(acme_key_, {{"include_patterns", {"^/docs/", "("}}});
    auto out = handler_.convert(*conn_, req);
    ASSERT_TRUE(out.final);
    EXPECT_EQ(out.final->status, 400);
    json body = json::parse(out.final->body);
    EXPECT_EQ(body["error"], "invalid_pattern");
    EXPECT_EQ(body["field"], "include_patterns");
    EXPECT_NE(body["detail"].get<std::string>().find("include_patterns[1]"), std::string::npos)
        << body["detail"];
    EXPECT_FALSE(out.job_id);

    out = handler_.convert(*conn_, website(acme_key_, {{"exclude_patterns", {"[a-"}}}));
    ASSERT_TRUE(out.final);
    EXPECT_EQ(out.final->status, 400);
    body = json::parse(out.final->body);
    EXPECT_EQ(body["error"], "invalid_pattern");
    EXPECT_EQ(body["field"], "exclude_patterns");

    // A pattern that is no string, an empty one and an overlong one.
    for (const json& bad : {json(7), json(""), json(std::string(501, 'a'))}) {
        out = handler_.convert(*conn_, website(acme_key_, {{"exclude_patterns", {bad}}}));
        ASSERT_TRUE(out.final) << bad;
        EXPECT_EQ(out.final->status, 400) << bad;
        EXPECT_EQ(json::parse(out.final->body)["error"], "invalid_pattern") << bad;
    }
    // One pattern instead of a list would be ignored by the crawl (the whole
    // site captured): refused too.
    out = handler_.convert(*conn_, website(acme_key_, {{"include_patterns", "^/docs/"}}));
    ASSERT_TRUE(out.final);
    EXPECT_EQ(out.final->status, 400);
    body = json::parse(out.final->body);
    EXPECT_EQ(body["error"], "invalid_pattern");
    EXPECT_EQ(body["field"], "include_patterns");
    EXPECT_EQ(count("SELECT count(*) FROM jobs"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM tasks"), 0);

    // No patterns, or null for none, are fine.
    EXPECT_FALSE(handler_
                     .convert(*conn_, website(acme_key_, {{"include_patterns", nullptr},
                                                          {"exclude_patterns", json::array()}}))
                     .final);
    EXPECT_EQ(count("SELECT count(*) FROM jobs"), 1);

    // The same patterns mean nothing to a page render: they are not checked.
    auto plain = convert(acme_key_, true);
    plain.options = {{"include_patterns", {"("}}};
    EXPECT_EQ(handler_.convert(*conn_, plain).final->status, 202);
}

TEST_F(RequestHandlerTest, WebsiteConvertWaitsForItsDiscoveryThenAnswers202) {
    const auto out =
        handler_.convert(*conn_, website(acme_key_, {{"crawl_mode", "sitemap"},
                                                     {"include_patterns", {"^/docs/"}},
                                                     {"notification_email", "team@example.com"}}));
    // No answer until the pages are found: the intake waits for it.
    EXPECT_FALSE(out.final);
    EXPECT_TRUE(out.website);
    ASSERT_TRUE(out.job_id);
    EXPECT_EQ(out.job_id->rfind("batch_", 0), 0u);
    EXPECT_FALSE(out.direct_download);

    const auto job = db::load_job(*conn_, *out.job_id, out.account_id);
    ASSERT_TRUE(job);
    EXPECT_EQ(job->endpoint, "website-to-pdf");
    EXPECT_EQ(job->status, "processing");
    EXPECT_TRUE(job->is_batch);
    EXPECT_EQ(job->discovery_state, "pending");
    EXPECT_TRUE(job->tasks.empty());
    EXPECT_EQ(job->options["url"], "https://example.com/docs/");
    EXPECT_EQ(job->options["output_format"], "zip");
    EXPECT_EQ(job->options["crawl_mode"], "sitemap");
    EXPECT_EQ(job->options["include_patterns"], json::array({"^/docs/"}));
    EXPECT_EQ(count("SELECT count(*) FROM tasks"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM jobs WHERE NOT is_sync AND "
                    "notification_email = 'team@example.com'"),
              1);

    EXPECT_FALSE(handler_.website_result(*conn_, *out.job_id, out.account_id));
    // The batch route shows the discovery under way.
    const auto batch = handler_.status(
        *conn_, {acme_key_, "http://localhost:8080", *out.job_id, intake::View::batch});
    EXPECT_EQ(batch.status, 200);
    EXPECT_EQ(json::parse(batch.body)["status"], "processing");
    EXPECT_EQ(json::parse(batch.body)["discovery"]["state"], "pending");

    db::DiscoveryOutcome o;
    o.urls = {"https://example.com/docs/", "https://example.com/docs/a"};
    o.method = "sitemap";
    o.total_discovered = 2;
    discover(o);
    const auto answer = handler_.website_result(*conn_, *out.job_id, out.account_id);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 202);
    const json body = json::parse(answer->body);
    EXPECT_EQ(body["batch_id"], *out.job_id);
    EXPECT_EQ(body["url_count"], 2);
    EXPECT_EQ(body["total_discovered"], 2);
    EXPECT_EQ(body["discovery_method"], "sitemap");
    EXPECT_EQ(body["output_format"], "zip");
    // Another account cannot read it.
    const auto other = db::load_job(*conn_, *out.job_id, out.account_id + 1000);
    EXPECT_FALSE(other);
    const auto theirs = handler_.website_result(*conn_, *out.job_id, out.account_id + 1000);
    ASSERT_TRUE(theirs);
    EXPECT_EQ(theirs->status, 404);
}

TEST_F(RequestHandlerTest, AWaitingSyncConvertKnowsWhereItsNotificationsGo) {
    // for the `accepted`, which the module's own 202 repeats
    auto req = convert(acme_key_, false);
    req.options = {{"notification_email", "team@yourcompany.com"},
                   {"callback_url", "https://hooks.example.com/x"}};
    const auto out = handler_.convert(*conn_, req);
    EXPECT_FALSE(out.final);
    ASSERT_TRUE(out.job_id);
    EXPECT_EQ(out.notice,
              "You will be notified at team@yourcompany.com when complete. "
              "Results will be sent to your callback URL.");
    EXPECT_EQ(handler_.convert(*conn_, convert(acme_key_, false)).notice, "");
}

TEST_F(RequestHandlerTest, WebsiteCaptureIsAlwaysABatchWhateverTheFlagsSay) {
    auto req = website(acme_key_);
    req.batch = false;
    req.async = false;
    const auto out = handler_.convert(*conn_, req);
    EXPECT_FALSE(out.final);
    EXPECT_TRUE(out.website);
    ASSERT_TRUE(out.job_id);
    // Its id is a batch's and it is no sync job (its answer is the 202).
    EXPECT_EQ(out.job_id->rfind("batch_", 0), 0u) << *out.job_id;
    EXPECT_FALSE(out.direct_download);
    EXPECT_EQ(count("SELECT count(*) FROM jobs WHERE is_batch AND NOT is_sync"), 1);
}

TEST_F(RequestHandlerTest, WebsiteDiscoveryThatFindsNothingIs400) {
    const auto out = handler_.convert(*conn_, website(acme_key_, {{"crawl_mode", "sitemap"}}));
    ASSERT_TRUE(out.job_id);
    db::DiscoveryOutcome o;
    o.method = "sitemap";
    o.error_code = "no_sitemap";
    o.error = "No sitemap was found for https://example.com.";
    discover(o);
    const auto answer = handler_.website_result(*conn_, *out.job_id, out.account_id);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 400);
    const json body = json::parse(answer->body);
    EXPECT_EQ(body["error"], "no_sitemap");
    EXPECT_EQ(body["job_id"], *out.job_id);
    // The batch route: failed, with the reason.
    const auto batch = handler_.status(
        *conn_, {acme_key_, "http://localhost:8080", *out.job_id, intake::View::batch});
    const json b = json::parse(batch.body);
    EXPECT_EQ(b["status"], "failed");
    EXPECT_EQ(b["discovery"]["error_code"], "no_sitemap");
}

TEST_F(RequestHandlerTest, WebsiteReplayIsAnsweredOnceTheDiscoveryIsRecorded) {
    auto req = website(acme_key_);
    req.idempotency_key = "site-1";
    const auto first = handler_.convert(*conn_, req);
    ASSERT_TRUE(first.job_id);
    EXPECT_FALSE(first.final);
    // A retry while it is pending waits for the same job.
    const auto pending = handler_.convert(*conn_, req);
    EXPECT_FALSE(pending.final);
    EXPECT_TRUE(pending.website);
    EXPECT_EQ(pending.job_id, first.job_id);

    db::DiscoveryOutcome o;
    o.urls = {"https://example.com/docs/"};
    o.method = "full_crawl";
    o.total_discovered = 1;
    discover(o);
    const auto done = handler_.convert(*conn_, req);
    ASSERT_TRUE(done.final);
    EXPECT_EQ(done.final->status, 202);
    EXPECT_EQ(json::parse(done.final->body)["batch_id"], *first.job_id);
    EXPECT_EQ(json::parse(done.final->body)["url_count"], 1);
    EXPECT_EQ(count("SELECT count(*) FROM jobs"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM tasks"), 1);
}

// ---- group commit (convert_all) ------------------------------------------

TEST_F(RequestHandlerTest, GroupCommitPutsEveryJobInOneTransactionAndAnswersEachInOrder) {
    auto first = convert(acme_key_, true);
    first.idempotency_key = "group-1";
    auto bad_key = convert("sk_live_" + std::string(40, 'x'), true);
    auto sync = convert(other_key_, false);
    auto replay = first;  // the same key again in the same group: one job
    auto batch = convert(other_key_, true);
    batch.batch = true;
    batch.urls = {"https://a", "https://b"};
    const auto out = handler_.convert_all(*conn_, {first, bad_key, sync, replay, batch});
    ASSERT_EQ(out.size(), 5u);
    ASSERT_TRUE(out[0].final);
    EXPECT_EQ(out[0].final->status, 202);
    EXPECT_EQ(out[1].final->status, 401);
    EXPECT_FALSE(out[2].final);  // a sync job: the caller waits for it
    ASSERT_TRUE(out[2].job_id);
    ASSERT_TRUE(out[3].final);
    EXPECT_EQ(json::parse(out[3].final->body)["job_id"], json::parse(out[0].final->body)["job_id"]);
    EXPECT_EQ(json::parse(out[4].final->body)["url_count"], 2);

    EXPECT_EQ(count("SELECT count(*) FROM jobs"), 3);
    EXPECT_EQ(count("SELECT count(*) FROM tasks"), 4);
    // One transaction wrote them all: one commit, one WAL flush.
    EXPECT_EQ(count("SELECT count(DISTINCT xmin::text) FROM jobs"), 1);
    EXPECT_EQ(count("SELECT count(DISTINCT xmin::text) FROM tasks"), 1);
}

TEST_F(RequestHandlerTest, GroupCommitInsertsTheWholeGroupWithOneStatement) {
    // Counts the INSERT statements on jobs in a setting of the session.
    const test_support::JobsTrigger statements(
        url(), "count_statements", test_support::JobsTrigger::When::each_statement,
        "PERFORM set_config('enconvert_test.statements', (coalesce(nullif(current_setting("
        "'enconvert_test.statements', true), ''), '0')::int + 1)::text, false);");
    auto batch = convert(acme_key_, true);
    batch.batch = true;
    batch.urls = {"https://a", "https://b", "https://c"};
    const auto out = handler_.convert_all(
        *conn_,
        {convert(other_key_, true), batch, convert(acme_key_, false), convert(other_key_, true)});
    ASSERT_EQ(out.size(), 4u);
    EXPECT_EQ(count("SELECT count(*) FROM jobs"), 4);
    EXPECT_EQ(count("SELECT count(*) FROM tasks"), 6);
    pqxx::nontransaction tx(*conn_);
    EXPECT_EQ(tx.exec("SELECT current_setting('enconvert_test.statements')")[0][0].as<int>(), 1);
    // Each job's tasks in its URLs' order, the jobs one after another.
    const auto batch_id = *out[1].job_id;
    EXPECT_EQ(tx.exec_params("SELECT string_agg(url, ' ' ORDER BY id) FROM tasks WHERE job_id = $1",
                             batch_id)[0][0]
                  .as<std::string>(),
              "https://a https://b https://c");
}

TEST_F(RequestHandlerTest, GroupCommitWithAFailingJobInsertsTheOthersAlone) {
    const test_support::JobsTrigger refuse(
        url(), "refuse_base", test_support::JobsTrigger::When::before_insert,
        "IF NEW.base_url = 'http://refused' THEN RAISE EXCEPTION 'refused row'; END IF;");
    auto refused = convert(acme_key_, true);
    refused.base_url = "http://refused";
    const auto out = handler_.convert_all(
        *conn_, {convert(acme_key_, true), refused, convert(other_key_, true)});
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[0].final->status, 202);
    EXPECT_EQ(out[1].final->status, 500);
    EXPECT_EQ(json::parse(out[1].final->body)["error"], "internal_error");
    EXPECT_FALSE(out[1].job_id);
    EXPECT_EQ(out[2].final->status, 202);
    EXPECT_EQ(count("SELECT count(*) FROM jobs"), 2);
}

// A group the server refuses for now (a lock held past the statement
// timeout, a full disk) is not retried job by job: each job would wait its
// own statement timeout and be refused too, the group's answers (size + 1)
// timeouts late. Its jobs' requests are answered 503; a bad key keeps 401.
TEST_F(RequestHandlerTest, GroupCommitRefusedForNowIsTriedOnceAndAnswers503) {
    {
        pqxx::work tx(*conn_);
        tx.exec("CREATE SEQUENCE insert_tries");
        tx.commit();
    }
    const test_support::JobsTrigger refuse(
        url(), "refuse_for_now", test_support::JobsTrigger::When::before_insert,
        "PERFORM nextval('insert_tries'); RAISE EXCEPTION 'canceling statement due to "
        "statement timeout' USING ERRCODE = 'query_canceled';");
    const auto out =
        handler_.convert_all(*conn_, {convert(acme_key_, true), convert("ek_live_unknown", true),
                                      convert(other_key_, true), convert(acme_key_, false)});
    ASSERT_EQ(out.size(), 4u);
    for (const std::size_t i : {0u, 2u, 3u}) {
        EXPECT_EQ(out[i].final->status, 503) << i;
        EXPECT_EQ(json::parse(out[i].final->body)["error"], "database_unavailable") << i;
        EXPECT_FALSE(out[i].job_id) << i;
    }
    EXPECT_EQ(out[1].final->status, 401);
    EXPECT_EQ(count("SELECT last_value FROM insert_tries"), 1);  // the group's statement only
    EXPECT_EQ(count("SELECT count(*) FROM jobs"), 0);
    EXPECT_TRUE(conn_->is_open());
}

TEST_F(RequestHandlerTest, GroupCommitLosingItsConnectionAloneAnswersTheCommittedJobs) {
    // The group's statement fails (a refused row), so each job is inserted
    // alone; the connection is lost at the third. The first job is
    // committed: it keeps its 202. Before, the lost connection was thrown
    // out of convert_all and every request, the first included, was
    // answered 503 "retry": a client without an Idempotency-Key then made
    // the first job twice.
    const test_support::JobsTrigger trap(
        url(), "refuse_or_die", test_support::JobsTrigger::When::before_insert,
        "IF NEW.base_url = 'http://refused' THEN RAISE EXCEPTION 'refused row'; END IF; "
        "IF NEW.base_url = 'http://die' THEN PERFORM pg_terminate_backend(pg_backend_pid()); "
        "END IF;");
    auto refused = convert(acme_key_, true);
    refused.base_url = "http://refused";
    auto die = convert(other_key_, true);
    die.base_url = "http://die";
    std::vector<intake::ConvertOutcome> out;
    ASSERT_NO_THROW(out = handler_.convert_all(*conn_, {convert(acme_key_, true), refused, die,
                                                        convert(other_key_, true)}));
    ASSERT_EQ(out.size(), 4u);
    EXPECT_EQ(out[0].final->status, 202);
    ASSERT_TRUE(out[0].job_id);
    EXPECT_EQ(out[1].final->status, 500);
    for (const std::size_t i : {2u, 3u}) {
        EXPECT_EQ(out[i].final->status, 503) << i;
        EXPECT_EQ(json::parse(out[i].final->body)["error"], "database_unavailable") << i;
        EXPECT_FALSE(out[i].job_id) << i;
    }
    EXPECT_FALSE(conn_->is_open());
    // What the answers say is what was stored: the first job only.
    pqxx::connection check(url());
    pqxx::nontransaction tx(check);
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM jobs")[0].as<int>(), 1);
    EXPECT_EQ(
        tx.exec_params1("SELECT count(*) FROM jobs WHERE id = $1", *out[0].job_id)[0].as<int>(), 1);
}

TEST_F(RequestHandlerTest, GroupCommitThatFailsToCommitThrowsAndEnqueuesNothing) {
    // A deferred constraint trigger fails at COMMIT, after every statement
    // of the group succeeded: the commit itself fails.
    const test_support::JobsTrigger fail(url(), "fail_commit",
                                         test_support::JobsTrigger::When::at_commit,
                                         "RAISE EXCEPTION 'commit refused';");
    EXPECT_THROW(handler_.convert_all(*conn_, {convert(acme_key_, true), convert(other_key_, true),
                                               convert(acme_key_, false)}),
                 pqxx::sql_error);
    EXPECT_EQ(count("SELECT count(*) FROM jobs"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM tasks"), 0);
}

TEST_F(RequestHandlerTest, GroupCommitCountsTheGroupsOwnJobsAgainstTheQueueBounds) {
    intake::RequestHandler bounded(storage::Presigner("secret", "", 3600), db::QueueLimits{5, 3});
    auto with_urls = [&](const std::string& key, std::vector<std::string> urls) {
        auto r = convert(key, true);
        r.batch = urls.size() > 1;
        r.urls = std::move(urls);
        return r;
    };
    const auto out = bounded.convert_all(
        *conn_, {with_urls(acme_key_, {"https://a", "https://b"}),
                 with_urls(acme_key_, {"https://c", "https://d"}),   // 4 > 3 for acme
                 with_urls(other_key_, {"https://e", "https://f"}),  // 4 of 5 in all
                 with_urls(other_key_, {"https://g"}),               // 3 of 3, 5 of 5
                 with_urls(other_key_, {"https://h"})});             // 4 > 3 for other
    ASSERT_EQ(out.size(), 5u);
    const std::vector<int> statuses = {out[0].final->status, out[1].final->status,
                                       out[2].final->status, out[3].final->status,
                                       out[4].final->status};
    EXPECT_EQ(statuses, (std::vector<int>{202, 429, 202, 202, 429}));
    EXPECT_EQ(count("SELECT count(*) FROM jobs"), 3);
    EXPECT_EQ(count("SELECT count(*) FROM tasks"), 5);
    // The next group starts from what is committed: everyone's bound is full.
    const auto more =
        bounded.convert_all(*conn_, {convert(acme_key_, true), convert(acme_key_, true)});
    EXPECT_EQ(more[0].final->status, 503);
    EXPECT_EQ(json::parse(more[0].final->body)["error"], "queue_full");
}

TEST_F(RequestHandlerTest, OnlyASettledFinishedJobAskedByOurIdIsMarkedForNginxToKeep) {
    intake::RequestHandler handler{
        storage::Presigner("secret", "", 3600), {}, std::chrono::hours(24)};
    auto req = convert(acme_key_, true);
    const std::string client_id = "0123456789abcdef0123456789abcdef";
    req.options = {{"job_id", client_id}, {"notification_email", "team@yourcompany.com"}};
    const auto out = handler.convert(*conn_, req);
    ASSERT_TRUE(out.final);
    const std::string job_id = json::parse(out.final->body)["job_id"];
    const auto status = [&](const std::string& key, const std::string& id) {
        return handler.status(*conn_, {key, "http://localhost:8080", id});
    };
    EXPECT_FALSE(status(acme_key_, job_id).cache);  // still processing

    render_the_task();
    EXPECT_FALSE(status(acme_key_, job_id).cache);  // the email is not sent yet

    {
        pqxx::work tx(*conn_);
        tx.exec_params(
            "INSERT INTO notifications (job_id, type, target, state) "
            "VALUES ($1, 'email', 'team@yourcompany.com', 'delivered') "
            "ON CONFLICT (job_id, type) DO UPDATE SET state = 'delivered'",
            job_id);
        tx.commit();
    }
    const auto kept = status(acme_key_, job_id);
    ASSERT_EQ(kept.status, 200);
    ASSERT_TRUE(kept.cache);
    ASSERT_EQ(kept.cache->links.size(), 1u);
    EXPECT_EQ(kept.cache->link_ttl, 3600);
    const auto& span = kept.cache->links[0];
    EXPECT_EQ(kept.body.substr(span.offset, span.length),
              json::parse(kept.body)["tasks"][0]["presigned_url"].get<std::string>());
    const auto completed =
        count("SELECT floor(extract(epoch FROM completed_at))::bigint FROM jobs WHERE id = '" +
              job_id + "'");
    EXPECT_EQ(kept.cache->until, completed + 24 * 3600);

    // by the client's id (it may name a newer job later), or by another key
    EXPECT_EQ(status(acme_key_, client_id).status, 200);
    EXPECT_FALSE(status(acme_key_, client_id).cache);
    EXPECT_EQ(status(other_key_, job_id).status, 404);
    EXPECT_FALSE(status(other_key_, job_id).cache);
}

// The polls of one wake-up are answered together (their jobs read in one
// statement): each exactly as it would be alone, in the requests' order,
// another account's job as unknown.
TEST_F(RequestHandlerTest, PollsAnsweredTogetherAreEachAnsweredAsAlone) {
    auto with_client_id = convert(acme_key_, true);
    const std::string client_id = "0123456789abcdef0123456789abcdef";
    with_client_id.options = {{"job_id", client_id}};
    auto batch = convert(acme_key_, true);
    batch.batch = true;
    batch.urls = {"https://a", "https://b"};
    const auto made = handler_.convert_all(
        *conn_, {with_client_id, batch, convert(other_key_, true), convert(acme_key_, true)});
    ASSERT_EQ(made.size(), 4u);
    const std::string acme_job = *made[0].job_id;
    const std::string acme_batch = *made[1].job_id;
    const std::string other_job = *made[2].job_id;
    render_the_task_of(*made[3].job_id);

    const std::string base = "http://localhost:8080";
    const std::string bad_key = "sk_live_" + std::string(40, 'x');
    const std::vector<intake::StatusRequest> polls = {
        {acme_key_, base, acme_job},
        {acme_key_, base, other_job},  // another account's
        {other_key_, base, other_job},
        {acme_key_, base, client_id},  // by the client's own id
        {acme_key_, base, acme_batch, intake::View::batch},
        {bad_key, base, acme_job},
        {acme_key_, base, "job_nope"},
        {acme_key_, base, "", intake::View::whoami},
        {acme_key_, base, *made[3].job_id},  // finished
        {other_key_, base, acme_job},
    };
    const std::size_t kFinished = 8;
    const auto together = handler_.status_all(*conn_, polls);
    ASSERT_EQ(together.size(), polls.size());
    for (std::size_t i = 0; i < polls.size(); ++i) {
        const auto alone = handler_.status(*conn_, polls[i]);
        EXPECT_EQ(together[i].status, alone.status) << i;
        // The finished job's links are signed afresh on every answer.
        if (i != kFinished) {
            EXPECT_EQ(together[i].body, alone.body) << i;
        }
        EXPECT_EQ(together[i].cache.has_value(), alone.cache.has_value()) << i;
    }
    EXPECT_EQ(together[0].status, 200);
    EXPECT_EQ(json::parse(together[0].body)["job_id"], acme_job);
    EXPECT_EQ(together[1].status, 404);
    EXPECT_EQ(together[1].body, together[6].body);  // indistinguishable from unknown
    EXPECT_EQ(together[2].status, 200);
    EXPECT_EQ(together[3].status, 200);
    EXPECT_EQ(together[4].status, 200);
    EXPECT_EQ(together[5].status, 401);
    EXPECT_EQ(together[7].status, 200);
    EXPECT_EQ(together[kFinished].status, 200);
    EXPECT_EQ(json::parse(together[kFinished].body)["tasks"][0]["status"], "success");
    EXPECT_EQ(together[9].status, 404);
    EXPECT_TRUE(handler_.status_all(*conn_, {}).empty());
}

// A read after the group's commit (a sync replay's result) fails: the jobs
// are committed, so no request of the group may be answered as if they were
// not (a 503 invites a retry that enqueues them twice). The others get their
// 202; the replay waits for its job like any sync request.
TEST_F(RequestHandlerTest, AReadFailingAfterTheCommitAnswersNoRequestAsNotEnqueued) {
    auto replayed = convert(acme_key_, false);
    replayed.idempotency_key = "sync-read-fails";
    const auto first = handler_.convert(*conn_, replayed);
    ASSERT_TRUE(first.job_id);
    render_the_task();

    // The result's read waits for a lock on notifications until the
    // statement timeout ends it; the inserts do not touch that table.
    pqxx::connection holder(url());
    pqxx::work lock_tx(holder);
    lock_tx.exec("LOCK TABLE notifications IN ACCESS EXCLUSIVE MODE");
    {
        pqxx::nontransaction tx(*conn_);
        tx.exec("SET statement_timeout = 300");
    }
    std::vector<intake::ConvertOutcome> out;
    ASSERT_NO_THROW(out = handler_.convert_all(
                        *conn_, {convert(other_key_, true), replayed, convert(acme_key_, true)}));
    ASSERT_EQ(out.size(), 3u);
    for (std::size_t i : {0u, 2u}) {
        ASSERT_TRUE(out[i].final) << i;
        EXPECT_EQ(out[i].final->status, 202) << i;
    }
    EXPECT_FALSE(out[1].final);  // waits for its job
    EXPECT_EQ(out[1].job_id, first.job_id);
    // Alone as well.
    EXPECT_NO_THROW(EXPECT_FALSE(handler_.convert(*conn_, replayed).final));
    lock_tx.abort();
    EXPECT_EQ(count("SELECT count(*) FROM jobs"), 3);
}
