#include "db/site_discoveries.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <set>
#include <thread>

#include "auth/api_keys.h"
#include "db/job_repository.h"
#include "db/key_repository.h"
#include "db/session.h"
#include "pg_fixture.h"
#include "util/ids.h"

using namespace enconvert;
using nlohmann::json;

namespace {

class SiteDiscoveriesTest : public test_support::PgTest {
  protected:
    void SetUp() override {
        test_support::PgTest::SetUp();
        if (HasFatalFailure()) return;
        conn_ = std::make_unique<pqxx::connection>(url());
        key_ = db::create_key(*conn_, "acme", auth::key_hash_hex(auth::generate_api_key()),
                              "sk_live_acme");
    }

    // A website capture as the intake creates it: no task, discovery pending.
    db::NewJob website(const std::string& start = "https://example.com/docs/") {
        db::NewJob j;
        j.id = util::new_job_id(true);
        j.account_id = key_.account_id;
        j.api_key_id = key_.key_id;
        j.endpoint = "website-to-pdf";
        j.is_batch = true;
        j.options = {{"url", start}, {"output_format", "zip"}, {"crawl_mode", "full"}};
        j.base_url = "https://api.example.com";
        j.discover = true;
        j.discovery_reserved = 100;
        return j;
    }

    std::string insert_website(const std::string& start = "https://example.com/docs/") {
        return db::insert_job(*conn_, website(start)).job_id;
    }

    db::JobView job(const std::string& id) { return *db::load_job(*conn_, id, key_.account_id); }

    long long count(const std::string& sql) {
        pqxx::nontransaction tx(*conn_);
        return tx.exec(sql)[0][0].as<long long>();
    }

    std::string text(const std::string& sql) {
        pqxx::nontransaction tx(*conn_);
        const auto f = tx.exec(sql)[0][0];
        return f.is_null() ? "NULL" : f.as<std::string>();
    }

    // Collects the session's notifications until one has arrived on every
    // channel of `channels`, for at most 5 s.
    static std::vector<db::Notification> wait_for(db::Session& s,
                                                  const std::set<std::string>& channels) {
        std::vector<db::Notification> got;
        std::set<std::string> missing = channels;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!missing.empty() && std::chrono::steady_clock::now() < deadline) {
            for (auto& n : s.take_notifications()) {
                missing.erase(n.channel);
                got.push_back(std::move(n));
            }
            if (missing.empty()) break;
            pollfd p{s.fd(), POLLIN, 0};
            ::poll(&p, 1, 100);
        }
        return got;
    }

    static std::vector<db::Notification> on(const std::vector<db::Notification>& notes,
                                            const std::string& channel) {
        std::vector<db::Notification> out;
        for (const auto& n : notes) {
            if (n.channel == channel) out.push_back(n);
        }
        return out;
    }

    static db::DiscoveryOutcome pages(std::vector<std::string> urls) {
        db::DiscoveryOutcome o;
        o.urls = std::move(urls);
        o.method = "sitemap";
        o.total_discovered = static_cast<std::int64_t>(o.urls.size());
        return o;
    }

    static db::DiscoveryOutcome failure(const std::string& code, const std::string& error) {
        db::DiscoveryOutcome o;
        o.method = "sitemap";
        o.error_code = code;
        o.error = error;
        return o;
    }

    std::unique_ptr<pqxx::connection> conn_;
    db::CreatedKey key_;
};

}  // namespace

TEST_F(SiteDiscoveriesTest, AWebsiteJobStartsWithNoTaskAndWaitsForItsDiscovery) {
    db::Session listener(url(), {db::kDiscoveryReadyChannel, db::kTaskReadyChannel});
    const auto ins = db::insert_job(*conn_, website());
    EXPECT_TRUE(ins.created);
    EXPECT_EQ(ins.status, "processing");
    EXPECT_EQ(count("SELECT count(*) FROM tasks"), 0);

    const db::JobView v = job(ins.job_id);
    EXPECT_EQ(v.status, "processing");
    EXPECT_EQ(v.endpoint, "website-to-pdf");
    EXPECT_TRUE(v.is_batch);
    EXPECT_TRUE(v.tasks.empty());
    EXPECT_EQ(v.discovery_state, "pending");
    EXPECT_FALSE(v.discovery_method);
    EXPECT_FALSE(v.discovery_total);
    EXPECT_FALSE(v.discovery_truncated);
    EXPECT_FALSE(v.discovery_error_code);
    EXPECT_FALSE(v.discovery_error);
    EXPECT_FALSE(v.completed_at);
    EXPECT_EQ(v.options["url"], "https://example.com/docs/");

    // The discoverers wake up, not the schedulers: there is nothing to render.
    const auto notes = wait_for(listener, {db::kDiscoveryReadyChannel});
    EXPECT_EQ(on(notes, db::kDiscoveryReadyChannel).size(), 1u);
    EXPECT_TRUE(on(notes, db::kTaskReadyChannel).empty());

    // A job of another kind has no discovery at all.
    db::NewJob plain = website();
    plain.id = util::new_job_id(false);
    plain.endpoint = "url-to-pdf";
    plain.is_batch = false;
    plain.discover = false;
    plain.urls = {"https://example.com/"};
    const auto p = db::insert_job(*conn_, plain);
    EXPECT_EQ(job(p.job_id).discovery_state, "");
}

TEST_F(SiteDiscoveriesTest, AClaimLeasesTheJobToOneDiscoverer) {
    // Only website jobs waiting for discovery are claimed.
    db::NewJob plain = website();
    plain.id = util::new_job_id(false);
    plain.endpoint = "url-to-pdf";
    plain.discover = false;
    plain.urls = {"https://example.com/"};
    db::insert_job(*conn_, plain);
    db::NewJob shot = website("https://shop.example.com/");
    shot.endpoint = "website-to-screenshot";
    shot.options["image_format"] = "jpeg";
    const std::string id = db::insert_job(*conn_, shot).job_id;

    const auto first = db::claim_discovery(*conn_, "a", 300);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->job_id, id);
    EXPECT_EQ(first->endpoint, "website-to-screenshot");
    EXPECT_EQ(first->start_url, "https://shop.example.com/");
    EXPECT_EQ(first->options["image_format"], "jpeg");
    EXPECT_EQ(first->attempts, 1);
    EXPECT_EQ(text("SELECT discovery_lease_owner FROM jobs WHERE id = '" + id + "'"), "a");
    EXPECT_EQ(count("SELECT count(*) FROM jobs WHERE discovery_lease_expires_at > now() + "
                    "interval '250 seconds'"),
              1);

    // Leased: nobody else gets it, not even the same owner again.
    EXPECT_FALSE(db::claim_discovery(*conn_, "b", 300));
    EXPECT_FALSE(db::claim_discovery(*conn_, "a", 300));
    // Claiming changed nothing else.
    EXPECT_EQ(job(id).discovery_state, "pending");
    EXPECT_EQ(count("SELECT count(*) FROM tasks WHERE job_id = '" + id + "'"), 0);
}

TEST_F(SiteDiscoveriesTest, ClaimsGoOldestFirstAndConcurrentOwnersGetDifferentJobs) {
    const std::string older = insert_website("https://one.example/");
    {
        pqxx::work tx(*conn_);
        tx.exec("UPDATE jobs SET created_at = created_at - interval '1 minute'");
        tx.commit();
    }
    const std::string newer = insert_website("https://two.example/");
    pqxx::connection other(url());
    const auto a = db::claim_discovery(*conn_, "a", 300);
    const auto b = db::claim_discovery(other, "b", 300);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->job_id, older);
    EXPECT_EQ(b->job_id, newer);
    EXPECT_FALSE(db::claim_discovery(*conn_, "c", 300));
}

TEST_F(SiteDiscoveriesTest, AnExpiredLeaseIsTakenOverWithTheAttemptCounted) {
    const std::string id = insert_website();
    const auto first = db::claim_discovery(*conn_, "dead", 0);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->attempts, 1);
    // A lease of 0 s has run out as soon as the clock moves on.
    std::optional<db::DiscoveryJob> second;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!second && std::chrono::steady_clock::now() < deadline) {
        second = db::claim_discovery(*conn_, "alive", 300);
    }
    ASSERT_TRUE(second);
    EXPECT_EQ(second->job_id, id);
    EXPECT_EQ(second->attempts, 2);
    EXPECT_EQ(text("SELECT discovery_lease_owner FROM jobs WHERE id = '" + id + "'"), "alive");

    // The dead owner can no longer record anything.
    const db::FinishResult late =
        db::finish_discovery(*conn_, "dead", id, pages({"https://example.com/docs/"}));
    EXPECT_FALSE(late.applied);
    EXPECT_EQ(count("SELECT count(*) FROM tasks"), 0);
    EXPECT_EQ(job(id).discovery_state, "pending");

    // A lease that ran out long ago (set in SQL) is taken over the same way.
    {
        pqxx::work tx(*conn_);
        tx.exec("UPDATE jobs SET discovery_lease_expires_at = now() - interval '1 hour'");
        tx.commit();
    }
    const auto third = db::claim_discovery(*conn_, "third", 300);
    ASSERT_TRUE(third);
    EXPECT_EQ(third->attempts, 3);
    EXPECT_FALSE(
        db::finish_discovery(*conn_, "alive", id, pages({"https://example.com/"})).applied);
    EXPECT_TRUE(db::finish_discovery(*conn_, "third", id, pages({"https://example.com/"})).applied);
}

TEST_F(SiteDiscoveriesTest, FoundPagesBecomeTasksInOrderAndTheJobRunsOn) {
    db::Session listener(url(),
                         {db::kTaskReadyChannel, db::kDiscoveryDoneChannel, db::kJobDoneChannel});
    db::NewJob w = website();
    w.callback_url = "https://hooks.example.com/done";
    w.notification_email = "team@example.com";
    const std::string id = db::insert_job(*conn_, w).job_id;
    ASSERT_TRUE(db::claim_discovery(*conn_, "a", 300));
    listener.take_notifications();  // nothing of interest yet

    db::DiscoveryOutcome o;
    o.urls = {"https://example.com/docs/", "https://example.com/docs/b", "https://example.com/a"};
    o.method = "full_crawl";
    o.total_discovered = 40;
    o.truncated = true;
    const db::FinishResult r = db::finish_discovery(*conn_, "a", id, o);
    EXPECT_TRUE(r.applied);
    EXPECT_FALSE(r.job_terminal);
    EXPECT_EQ(r.job_id, id);

    const db::JobView v = job(id);
    EXPECT_EQ(v.status, "processing");
    EXPECT_FALSE(v.completed_at);
    EXPECT_EQ(v.discovery_state, "done");
    EXPECT_EQ(v.discovery_method, "full_crawl");
    EXPECT_EQ(v.discovery_total, 40);
    EXPECT_TRUE(v.discovery_truncated);
    EXPECT_FALSE(v.discovery_error_code);
    EXPECT_FALSE(v.discovery_error);
    ASSERT_EQ(v.tasks.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(v.tasks[i].position, static_cast<int>(i));
        EXPECT_EQ(v.tasks[i].url, o.urls[i]);
        EXPECT_EQ(v.tasks[i].status, "pending");
    }
    EXPECT_EQ(count("SELECT count(*) FROM jobs WHERE discovery_lease_owner IS NULL AND "
                    "discovery_lease_expires_at IS NULL"),
              1);
    // The job is not over: nobody is told yet.
    EXPECT_EQ(count("SELECT count(*) FROM notifications"), 0);

    const auto notes = wait_for(listener, {db::kTaskReadyChannel, db::kDiscoveryDoneChannel});
    EXPECT_EQ(on(notes, db::kTaskReadyChannel).size(), 1u);
    const auto done = on(notes, db::kDiscoveryDoneChannel);
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].payload, id);
    EXPECT_TRUE(on(notes, db::kJobDoneChannel).empty());

    // The tasks are the schedulers' now, with the job's account and options.
    const auto claimed = db::claim_tasks(*conn_, "w", 300, 10);
    ASSERT_EQ(claimed.size(), 3u);
    for (const auto& t : claimed) {
        EXPECT_EQ(t.job_id, id);
        EXPECT_EQ(t.endpoint, "website-to-pdf");
    }
    // Recorded once: neither claimed again nor finished a second time.
    EXPECT_FALSE(db::claim_discovery(*conn_, "b", 300));
    EXPECT_FALSE(db::finish_discovery(*conn_, "a", id, o).applied);
    EXPECT_EQ(count("SELECT count(*) FROM tasks"), 3);
}

TEST_F(SiteDiscoveriesTest, AFailedDiscoveryEndsTheJobAndTellsTheClient) {
    db::Session listener(url(),
                         {db::kTaskReadyChannel, db::kDiscoveryDoneChannel, db::kJobDoneChannel});
    db::NewJob w = website();
    w.callback_url = "https://hooks.example.com/done";
    w.notification_email = "team@example.com";
    const std::string id = db::insert_job(*conn_, w).job_id;
    ASSERT_TRUE(db::claim_discovery(*conn_, "a", 300));
    listener.take_notifications();

    const db::FinishResult r = db::finish_discovery(
        *conn_, "a", id, failure("no_sitemap", "No sitemap was found for https://example.com."));
    EXPECT_TRUE(r.applied);
    EXPECT_TRUE(r.job_terminal);
    EXPECT_EQ(r.job_status, "failed");
    EXPECT_EQ(r.endpoint, "website-to-pdf");

    const db::JobView v = job(id);
    EXPECT_EQ(v.status, "failed");
    EXPECT_TRUE(v.completed_at);
    EXPECT_TRUE(v.tasks.empty());
    EXPECT_EQ(v.discovery_state, "failed");
    EXPECT_EQ(v.discovery_method, "sitemap");
    EXPECT_EQ(v.discovery_error_code, "no_sitemap");
    EXPECT_EQ(v.discovery_error, "No sitemap was found for https://example.com.");
    EXPECT_EQ(count("SELECT count(*) FROM jobs WHERE discovery_lease_owner IS NULL"), 1);
    // Both notifications queued with the terminal state, once.
    EXPECT_EQ(count("SELECT count(*) FROM notifications WHERE job_id = '" + id +
                    "' AND type = 'webhook' AND target = 'https://hooks.example.com/done'"),
              1);
    EXPECT_EQ(count("SELECT count(*) FROM notifications WHERE job_id = '" + id +
                    "' AND type = 'email' AND target = 'team@example.com'"),
              1);

    const auto notes = wait_for(listener, {db::kJobDoneChannel, db::kDiscoveryDoneChannel});
    ASSERT_EQ(on(notes, db::kJobDoneChannel).size(), 1u);
    EXPECT_EQ(on(notes, db::kJobDoneChannel)[0].payload, id);
    ASSERT_EQ(on(notes, db::kDiscoveryDoneChannel).size(), 1u);
    EXPECT_EQ(on(notes, db::kDiscoveryDoneChannel)[0].payload, id);
    EXPECT_TRUE(on(notes, db::kTaskReadyChannel).empty());

    // Over: never claimed again, never finished again.
    EXPECT_FALSE(db::claim_discovery(*conn_, "b", 300));
    EXPECT_FALSE(db::finish_discovery(*conn_, "a", id, pages({"https://example.com/"})).applied);
    EXPECT_EQ(count("SELECT count(*) FROM notifications"), 2);
    EXPECT_EQ(count("SELECT count(*) FROM tasks"), 0);
}

TEST_F(SiteDiscoveriesTest, AnErrorQuotingTheSitesBytesIsStoredAsValidText) {
    // A start page served as "Content-Type: image/\xff": the sentence naming
    // it was refused by PostgreSQL, and the job crawled again three times.
    const std::string id = insert_website();
    ASSERT_TRUE(db::claim_discovery(*conn_, "a", 300));
    const db::FinishResult r = db::finish_discovery(
        *conn_, "a", id, failure("no_pages", std::string("The start page is image/\xff\0x.", 28)));
    EXPECT_TRUE(r.applied);
    EXPECT_EQ(job(id).discovery_error, "The start page is image/\xEF\xBF\xBD\xEF\xBF\xBDx.");
}

TEST_F(SiteDiscoveriesTest, NoPagesWithoutACodeStillFailsTheJob) {
    // No page and no error code is no success: the job cannot run on with
    // nothing to render (it would never end).
    const std::string id = insert_website();
    ASSERT_TRUE(db::claim_discovery(*conn_, "a", 300));
    db::DiscoveryOutcome nothing;
    nothing.method = "full_crawl";
    const db::FinishResult r = db::finish_discovery(*conn_, "a", id, nothing);
    EXPECT_TRUE(r.applied);
    EXPECT_TRUE(r.job_terminal);
    const db::JobView v = job(id);
    EXPECT_EQ(v.status, "failed");
    EXPECT_EQ(v.discovery_state, "failed");
    EXPECT_EQ(v.discovery_error_code, "no_pages");
    ASSERT_TRUE(v.discovery_error);
    EXPECT_FALSE(v.discovery_error->empty());
    // Without a callback or an e-mail address there is nobody to tell.
    EXPECT_EQ(count("SELECT count(*) FROM notifications"), 0);
}

TEST_F(SiteDiscoveriesTest, AFinishByANonOwnerChangesNothing) {
    const std::string id = insert_website();
    ASSERT_TRUE(db::claim_discovery(*conn_, "a", 300));
    EXPECT_FALSE(db::finish_discovery(*conn_, "b", id, pages({"https://example.com/"})).applied);
    EXPECT_FALSE(db::finish_discovery(*conn_, "b", id, failure("no_pages", "None.")).applied);
    // Nor can a job that was never claimed be finished.
    const std::string unclaimed = insert_website();
    EXPECT_FALSE(
        db::finish_discovery(*conn_, "a", unclaimed, pages({"https://example.com/"})).applied);

    const db::JobView v = job(id);
    EXPECT_EQ(v.status, "processing");
    EXPECT_EQ(v.discovery_state, "pending");
    EXPECT_FALSE(v.discovery_method);
    EXPECT_FALSE(v.discovery_error_code);
    EXPECT_FALSE(v.completed_at);
    EXPECT_EQ(text("SELECT discovery_lease_owner FROM jobs WHERE id = '" + id + "'"), "a");
    EXPECT_EQ(count("SELECT count(*) FROM tasks"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM notifications"), 0);
    EXPECT_EQ(job(unclaimed).discovery_state, "pending");
}

TEST_F(SiteDiscoveriesTest, AReleasedDiscoveryIsFreeAtOnceAndTheAttemptNotCounted) {
    db::Session listener(url(), {db::kDiscoveryReadyChannel});
    const std::string id = insert_website();
    wait_for(listener, {db::kDiscoveryReadyChannel});  // the insert's own wake-up
    const auto first = db::claim_discovery(*conn_, "a", 300);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->attempts, 1);

    // Someone else's release does nothing.
    db::release_discovery(*conn_, "b", id);
    EXPECT_EQ(text("SELECT discovery_lease_owner FROM jobs WHERE id = '" + id + "'"), "a");
    EXPECT_FALSE(db::claim_discovery(*conn_, "b", 300));

    db::release_discovery(*conn_, "a", id);
    EXPECT_EQ(text("SELECT discovery_lease_owner FROM jobs WHERE id = '" + id + "'"), "NULL");
    EXPECT_EQ(text("SELECT discovery_lease_expires_at FROM jobs WHERE id = '" + id + "'"), "NULL");
    EXPECT_EQ(count("SELECT discovery_attempts FROM jobs"), 0);
    EXPECT_EQ(job(id).discovery_state, "pending");
    // The other discoverers are woken up for it.
    const auto notes = wait_for(listener, {db::kDiscoveryReadyChannel});
    ASSERT_EQ(on(notes, db::kDiscoveryReadyChannel).size(), 1u);
    EXPECT_EQ(on(notes, db::kDiscoveryReadyChannel)[0].payload, id);

    const auto second = db::claim_discovery(*conn_, "b", 300);
    ASSERT_TRUE(second);
    EXPECT_EQ(second->job_id, id);
    EXPECT_EQ(second->attempts, 1);
    // The first owner's lease is gone with its release.
    EXPECT_FALSE(db::finish_discovery(*conn_, "a", id, pages({"https://example.com/"})).applied);

    // A recorded discovery cannot be released back.
    ASSERT_TRUE(db::finish_discovery(*conn_, "b", id, pages({"https://example.com/"})).applied);
    db::release_discovery(*conn_, "b", id);
    EXPECT_EQ(job(id).discovery_state, "done");
    EXPECT_EQ(count("SELECT discovery_attempts FROM jobs"), 1);
}

TEST_F(SiteDiscoveriesTest, AWaitingDiscoveryHoldsItsPageLimitInTheQueueCountsUntilItEnds) {
    const auto kept = [&] {
        return count("SELECT coalesce((SELECT unfinished FROM queue_counts WHERE account_id = " +
                     std::to_string(key_.account_id) + "), 0)");
    };
    const std::string found = insert_website();
    const std::string failing = insert_website("https://example.com/none/");
    const std::string dropped = insert_website("https://example.com/gone/");
    EXPECT_EQ(kept(), 300);

    // Found pages take the place of the limit, as tasks.
    auto claimed = db::claim_discovery(*conn_, "a", 300);
    ASSERT_TRUE(claimed);
    ASSERT_EQ(claimed->job_id, found);
    ASSERT_TRUE(
        db::finish_discovery(*conn_, "a", found,
                             pages({"https://example.com/docs/", "https://example.com/docs/b"}))
            .applied);
    EXPECT_EQ(kept(), 202);
    // A failed discovery holds nothing any more.
    claimed = db::claim_discovery(*conn_, "a", 300);
    ASSERT_TRUE(claimed);
    ASSERT_TRUE(db::finish_discovery(*conn_, "a", failing, failure("no_pages", "Nothing")).applied);
    EXPECT_EQ(kept(), 102);
    // Claims, releases and a lease taken over change nothing; a job that
    // ends another way or is deleted gives its places back.
    claimed = db::claim_discovery(*conn_, "a", 300);
    ASSERT_TRUE(claimed);
    db::release_discovery(*conn_, "a", dropped);
    EXPECT_EQ(kept(), 102);
    {
        pqxx::work tx(*conn_);
        tx.exec_params("UPDATE jobs SET status = 'failed' WHERE id = $1", dropped);
        tx.commit();
    }
    EXPECT_EQ(kept(), 2);
    {
        pqxx::work tx(*conn_);
        tx.exec_params("UPDATE jobs SET status = 'processing' WHERE id = $1", dropped);
        tx.commit();
    }
    EXPECT_EQ(kept(), 102);
    {
        pqxx::work tx(*conn_);
        tx.exec_params("DELETE FROM jobs WHERE id = $1", dropped);
        tx.commit();
    }
    EXPECT_EQ(kept(), 2);
    EXPECT_EQ(count("SELECT count(*) FROM tasks WHERE status = 'pending'"), 2);
}
