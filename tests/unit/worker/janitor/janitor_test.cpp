#include "janitor/janitor.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "../db/pg_fixture.h"
#include "admin/key_command.h"
#include "db/job_repository.h"
#include "intake/request_handler.h"
#include "scheduler/task_outcome.h"
#include "storage/local_storage.h"
#include "storage/storage.h"
#include "util/ids.h"

using namespace enconvert;
using nlohmann::json;

namespace {

class JanitorTest : public test_support::PgTest {
  protected:
    void SetUp() override {
        test_support::PgTest::SetUp();
        if (HasFatalFailure()) return;
        conn_ = std::make_unique<pqxx::connection>(url());
        std::ostringstream out;
        key_ = admin::create_key(*conn_, "acme", out);
    }

    // An async job of `urls` through the intake, its tasks finished (the
    // first successfully with a stored file), finished `age` ago.
    std::string finished_job(int urls, const std::string& age,
                             std::optional<std::string> idempotency_key = std::nullopt) {
        intake::ConvertRequest r;
        r.key = key_;
        r.base_url = "http://localhost:8080";
        r.endpoint = "url-to-pdf";
        for (int i = 0; i < urls; ++i) r.urls.push_back("https://example.com/" + std::to_string(i));
        r.batch = urls > 1;
        r.async = true;
        r.options = {{"notification_email", "team@yourcompany.com"}};
        r.idempotency_key = idempotency_key;
        const auto out = handler_.convert(*conn_, r);
        const std::string job_id = *out.job_id;
        const auto claimed = db::claim_tasks(*conn_, "w", 300, 100);
        for (std::size_t i = 0; i < claimed.size(); ++i) {
            db::TaskOutcome o;
            o.task_id = claimed[i].task_id;
            if (i == 0) {
                o.ok = true;
                o.object_key = "live/files/a/url-to-pdf/" + job_id + ".pdf";
                o.filename = "r.pdf";
                o.file_size = 10;
            } else {
                o.error_code = "timeout";
                o.error = "late";
            }
            db::finish_task(*conn_, "w", o);
        }
        pqxx::work tx(*conn_);
        tx.exec_params("UPDATE jobs SET completed_at = now() - $2::interval WHERE id = $1", job_id,
                       age);
        // Its email was sent (a notification still to be sent keeps the job).
        tx.exec_params("UPDATE notifications SET state = 'delivered' WHERE job_id = $1", job_id);
        tx.commit();
        return job_id;
    }

    // An async job of one URL through the intake, not yet claimed.
    std::string one_url_job(const std::string& url, json options = json::object()) {
        intake::ConvertRequest r;
        r.key = key_;
        r.base_url = "http://localhost:8080";
        r.endpoint = "url-to-pdf";
        r.urls = {url};
        r.async = true;
        r.options = std::move(options);
        return *handler_.convert(*conn_, r).job_id;
    }

    void finished_two_days_ago(const std::string& job_id) {
        pqxx::work tx(*conn_);
        tx.exec_params("UPDATE jobs SET completed_at = now() - interval '2 days' WHERE id = $1",
                       job_id);
        tx.commit();
    }

    void set_notification_state(const std::string& job_id, const std::string& state) {
        pqxx::work tx(*conn_);
        tx.exec_params("UPDATE notifications SET state = $2 WHERE job_id = $1", job_id, state);
        tx.commit();
    }

    long long count(const std::string& sql) {
        pqxx::nontransaction tx(*conn_);
        return tx.exec(sql)[0][0].as<long long>();
    }

    janitor::JanitorOptions options() {
        janitor::JanitorOptions o;
        o.database_url = url();
        o.retention = std::chrono::hours(24);
        o.batch_size = 2;  // several batches in one sweep
        return o;
    }

    api::HttpAnswer status(const std::string& job_id) {
        return handler_.status(*conn_, {key_, "http://localhost:8080", job_id});
    }

    std::unique_ptr<pqxx::connection> conn_;
    std::string key_;
    intake::RequestHandler handler_{storage::Presigner("secret", "", 3600)};
};

TEST_F(JanitorTest, ExpiresOldJobsFilesFirstAndLeavesATombstoneThatAnswers410) {
    std::vector<std::string> old;
    for (int i = 0; i < 5; ++i) old.push_back(finished_job(2, "25 hours"));
    const std::string recent = finished_job(1, "1 hour");
    std::set<std::string> removed;
    janitor::Janitor j(options(), [&](const std::string& key) { removed.insert(key); });

    EXPECT_EQ(j.sweep(), 5);
    EXPECT_EQ(removed.size(), 5u);
    for (const auto& id : old) {
        EXPECT_TRUE(removed.count("live/files/a/url-to-pdf/" + id + ".pdf")) << id;
        const auto answer = status(id);
        EXPECT_EQ(answer.status, 410);
        EXPECT_EQ(json::parse(answer.body)["error"], "expired");
        EXPECT_NE(json::parse(answer.body)["detail"].get<std::string>().find(id),
                  std::string::npos);
    }
    EXPECT_EQ(status(recent).status, 200);
    EXPECT_EQ(count("SELECT count(*) FROM tasks"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM notifications"), 1);
    // Nothing of the customer's request is kept in a tombstone.
    EXPECT_EQ(count("SELECT count(*) FROM jobs WHERE expired_at IS NOT NULL AND "
                    "(options <> '{}' OR notification_email IS NOT NULL OR base_url <> '')"),
              0);
    EXPECT_EQ(j.sweep(), 0);  // idempotent
}

TEST_F(JanitorTest, AStopEndsTheSweepAfterTheBatchInHandAndTheNextPassGoesOn) {
    for (int i = 0; i < 7; ++i) finished_job(1, "25 hours");
    std::atomic<bool> stop{false};
    int removed = 0;
    // The worker is told to stop while the first batch's files are deleted.
    janitor::Janitor j(options(), [&](const std::string&) {
        ++removed;
        stop = true;
    });
    EXPECT_EQ(j.sweep(&stop), 2);  // that batch is finished, no other begun
    EXPECT_EQ(removed, 2);
    EXPECT_EQ(count("SELECT count(*) FROM jobs WHERE expired_at IS NULL"), 5);
    stop = false;
    janitor::Janitor next(options(), [](const std::string&) {});
    EXPECT_EQ(next.sweep(&stop), 5);
}

TEST_F(JanitorTest, AFileThatCannotBeDeletedKeepsItsJobForTheNextPass) {
    const std::string id = finished_job(1, "2 days");
    janitor::Janitor failing(options(), [](const std::string&) {
        throw std::runtime_error("object store unreachable");
    });
    EXPECT_EQ(failing.sweep(), 0);
    EXPECT_EQ(status(id).status, 200);
    EXPECT_EQ(count("SELECT count(*) FROM tasks"), 1);

    janitor::Janitor working(options(), [](const std::string&) {});
    EXPECT_EQ(working.sweep(), 1);
    EXPECT_EQ(status(id).status, 410);
}

// A worker that died between storing a task's file and recording it left
// an object no row names; the task's next claim stored and recorded its
// own. Retention removed only the recorded file: the first one stayed in
// the storage for good. The keys of every claim are computed again now.
TEST_F(JanitorTest, FilesThatEarlierClaimsStoredWithoutRecordingThemAreDeletedToo) {
    char tmpl[] = "/tmp/enconvert-janitor-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    const std::filesystem::path root = tmpl;
    storage::LocalStorage store(root);
    const auto files_stored = [&root] {
        std::vector<std::string> files;
        for (const auto& e : std::filesystem::recursive_directory_iterator(root / "live"))
            if (e.is_regular_file()) files.push_back(e.path().string());
        return files;
    };
    // What a claim of the job's task renders, stored as make_outcome does.
    const std::string pdf = "%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
    const auto render_and_store = [&](const db::ClaimedTask& claimed) {
        const std::filesystem::path temp = store.temp_dir() / "render.pdf";
        std::ofstream(temp) << pdf;
        render::RenderResult r;
        r.ok = true;
        r.size = static_cast<std::int64_t>(pdf.size());
        return scheduler::make_outcome(claimed, r, store, temp);
    };
    const std::string job_id =
        one_url_job("https://example.com/report", {{"output_filename", "report"}});
    // Claims 1 and 2 store their file and their workers die; their leases
    // run out and claim 3 stores and records its own.
    for (const std::string worker : {"w1", "w2"}) {
        const auto claimed = db::claim_tasks(*conn_, worker, 300, 10);
        ASSERT_EQ(claimed.size(), 1u);
        ASSERT_TRUE(render_and_store(claimed[0]).ok);
        pqxx::work tx(*conn_);
        tx.exec("UPDATE tasks SET lease_expires_at = now() - interval '1 second'");
        tx.commit();
    }
    const auto last = db::claim_tasks(*conn_, "w3", 300, 10);
    ASSERT_EQ(last.size(), 1u);
    EXPECT_EQ(last[0].claim, 3);
    const db::TaskOutcome recorded = render_and_store(last[0]);
    ASSERT_TRUE(db::finish_task(*conn_, "w3", recorded).applied);
    ASSERT_EQ(files_stored().size(), 3u);
    finished_two_days_ago(job_id);

    janitor::Janitor j(options(), [&store](const std::string& key) { store.erase(key); });
    EXPECT_EQ(j.sweep(), 1);
    EXPECT_EQ(files_stored(), std::vector<std::string>{});
    std::filesystem::remove_all(root);
}

// A claim that recorded its outcome left nothing behind (a full storage's
// retry removed what it stored): only abandoned claims' keys are deleted.
// A task retried every 30 s for a day while the storage was full has
// thousands of claims; a delete for each was thousands of requests to an
// object store for one task.
TEST_F(JanitorTest, ClaimsThatRecordedTheirOutcomeCostNoDelete) {
    const std::string job_id = one_url_job("https://example.com/report");
    for (int i = 0; i < 5; ++i) {
        const auto claimed = db::claim_tasks(*conn_, "w", 300, 10);
        ASSERT_EQ(claimed.size(), 1u);
        db::TaskOutcome full;
        full.task_id = claimed[0].task_id;
        full.claim = claimed[0].claim;
        full.retry = true;
        full.count_attempt = false;
        full.error_code = "storage_full";
        full.error = "full";
        ASSERT_TRUE(db::finish_task(*conn_, "w", full).applied);
    }
    const auto last = db::claim_tasks(*conn_, "w", 300, 10);
    ASSERT_EQ(last.size(), 1u);
    EXPECT_EQ(last[0].claim, 6);
    db::TaskOutcome ok;
    ok.task_id = last[0].task_id;
    ok.claim = last[0].claim;
    ok.ok = true;
    ok.object_key = "live/files/a/url-to-pdf/" + job_id + ".pdf";
    ok.filename = "r.pdf";
    ok.file_size = 10;
    ASSERT_TRUE(db::finish_task(*conn_, "w", ok).applied);
    finished_two_days_ago(job_id);
    std::vector<std::string> removed;
    janitor::Janitor j(options(), [&](const std::string& key) { removed.push_back(key); });
    EXPECT_EQ(j.sweep(), 1);
    EXPECT_EQ(removed, std::vector<std::string>{ok.object_key});
}

// Jobs are taken oldest first: an undeletable file used to fail its whole
// batch, and as the oldest it headed every later one, so no job was ever
// expired again. Now its job is passed over and every other one expires,
// even behind a full batch of such jobs (batches of 2 here).
TEST_F(JanitorTest, AnUndeletableFileHoldsUpNoOtherJob) {
    const std::string stuck_1 = finished_job(1, "4 days");
    const std::string stuck_2 = finished_job(1, "3 days");
    const std::string older = finished_job(1, "2 days");
    const std::string newer = finished_job(1, "26 hours");
    std::set<std::string> removed;
    janitor::Janitor j(options(), [&](const std::string& key) {
        if (key.find(stuck_1) != std::string::npos || key.find(stuck_2) != std::string::npos)
            throw std::runtime_error("AccessDenied");
        removed.insert(key);
    });
    EXPECT_EQ(j.sweep(), 2);
    EXPECT_EQ(status(stuck_1).status, 200);
    EXPECT_EQ(status(stuck_2).status, 200);
    EXPECT_EQ(status(older).status, 410);
    EXPECT_EQ(status(newer).status, 410);
    EXPECT_EQ(removed.size(), 2u);
    EXPECT_EQ(j.sweep(), 0);  // tried again on the next pass, still kept
    EXPECT_EQ(status(stuck_1).status, 200);
}

// The row locks of a batch are held while its files are deleted. Past the
// time budget (none here) the batch commits after the job in hand and the
// rest go to the next batch: every job is expired before the next one's
// files are touched. Before, all of a batch's jobs expired together at the
// end, however long their files took (minutes for big captures).
TEST_F(JanitorTest, ABatchHoldsItsLocksNoLongerThanItsTimeBudget) {
    for (int i = 0; i < 4; ++i) finished_job(1, "25 hours");
    auto o = options();
    o.batch_size = 10;
    o.batch_time_budget = std::chrono::milliseconds(0);
    std::vector<long long> expired_before_each_delete;
    janitor::Janitor j(o, [&](const std::string&) {
        expired_before_each_delete.push_back(
            count("SELECT count(*) FROM jobs WHERE expired_at IS NOT NULL"));
    });
    EXPECT_EQ(j.sweep(), 4);
    EXPECT_EQ(expired_before_each_delete, (std::vector<long long>{0, 1, 2, 3}));
}

// A store that keeps failing (retries used up) would fail every job of the
// pass the same way, each after its own retries: the pass ends at the first
// such failure and the next one tries again. Before, every expired job was
// tried in turn.
TEST_F(JanitorTest, AnUnavailableStoreEndsThePassAtItsFirstFailure) {
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) ids.push_back(finished_job(1, "25 hours"));
    int tries = 0;
    janitor::Janitor failing(options(), [&](const std::string&) {
        ++tries;
        throw storage::StorageUnavailable("the object store answered HTTP 503 SlowDown");
    });
    EXPECT_EQ(failing.sweep(), 0);
    EXPECT_EQ(tries, 1);
    for (const auto& id : ids) EXPECT_EQ(status(id).status, 200) << id;

    janitor::Janitor working(options(), [](const std::string&) {});
    EXPECT_EQ(working.sweep(), 3);
}

// A tombstone keeps nothing of the customer's: the ZIP's key holds its
// output_filename, the ZIP's and the discovery's errors may quote its pages.
TEST_F(JanitorTest, ATombstoneKeepsNeitherTheZipKeyNorTheErrors) {
    const std::string id = finished_job(2, "25 hours");
    {
        pqxx::work tx(*conn_);
        tx.exec_params(
            "UPDATE jobs SET zip_object_key = 'live/files/a/zip/quarterly-report.zip', "
            "zip_error = 'https://intranet.example/secret failed', "
            "discovery_error = 'https://intranet.example/ was refused' WHERE id = $1",
            id);
        tx.commit();
    }
    std::set<std::string> removed;
    janitor::Janitor j(options(), [&](const std::string& key) { removed.insert(key); });
    EXPECT_EQ(j.sweep(), 1);
    EXPECT_TRUE(removed.count("live/files/a/zip/quarterly-report.zip"));
    EXPECT_EQ(count("SELECT count(*) FROM jobs WHERE expired_at IS NOT NULL AND (zip_object_key "
                    "IS NOT NULL OR zip_error IS NOT NULL OR discovery_error IS NOT NULL)"),
              0);
    EXPECT_EQ(status(id).status, 410);
}

// A notification still to be sent (a retry waiting for the receiver's
// Retry-After, one being sent) keeps its job past the retention: expired
// under it, it would vanish unsent or go out without the job's tasks.
TEST_F(JanitorTest, AJobWhoseNotificationIsStillToBeSentIsKeptUntilItIsSettled) {
    const std::string waiting = finished_job(1, "3 days");
    const std::string sending = finished_job(1, "3 days");
    set_notification_state(waiting, "pending");
    set_notification_state(sending, "sending");
    janitor::Janitor j(options(), [](const std::string&) {});
    EXPECT_EQ(j.sweep(), 0);
    EXPECT_EQ(status(waiting).status, 200);
    EXPECT_EQ(count("SELECT count(*) FROM notifications"), 2);

    set_notification_state(waiting, "failed");
    set_notification_state(sending, "delivered");
    EXPECT_EQ(j.sweep(), 2);
    EXPECT_EQ(status(waiting).status, 410);
    EXPECT_EQ(status(sending).status, 410);
}

TEST_F(JanitorTest, RunningJobsAreNeverExpired) {
    const std::string id = one_url_job("https://example.com");
    pqxx::work tx(*conn_);
    tx.exec_params("UPDATE jobs SET created_at = now() - interval '9 days' WHERE id = $1", id);
    tx.commit();
    janitor::Janitor j(options(), [](const std::string&) {});
    EXPECT_EQ(j.sweep(), 0);
    EXPECT_EQ(status(id).status, 200);
}

TEST_F(JanitorTest, OldTombstonesAreForgottenAndAnExpiredIdempotencyKeyMakesANewJob) {
    const std::string id = finished_job(1, "3 days", "key-1");
    auto o = options();
    o.tombstone_retention = std::chrono::hours(1);
    janitor::Janitor j(o, [](const std::string&) {});
    EXPECT_EQ(j.sweep(), 1);
    EXPECT_EQ(status(id).status, 410);

    const std::string again = finished_job(1, "0 seconds", "key-1");
    EXPECT_NE(again, id) << "the expired job's key was replayed";

    pqxx::work tx(*conn_);
    tx.exec_params("UPDATE jobs SET expired_at = now() - interval '2 hours' WHERE id = $1", id);
    tx.commit();
    j.sweep();
    EXPECT_EQ(status(id).status, 404);
    EXPECT_EQ(status(again).status, 200);
}

}  // namespace
