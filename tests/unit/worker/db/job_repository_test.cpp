#include "db/job_repository.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>
#include <set>
#include <thread>

#include "auth/api_keys.h"
#include "db/key_repository.h"
#include "db/retention.h"
#include "db/session.h"
#include "pg_fixture.h"
#include "util/ids.h"

using namespace enconvert;

namespace {

class JobRepositoryTest : public test_support::PgTest {
  protected:
    void SetUp() override {
        test_support::PgTest::SetUp();
        if (HasFatalFailure()) return;
        conn_ = std::make_unique<pqxx::connection>(url());
        acme_ = db::create_key(*conn_, "acme", auth::key_hash_hex(auth::generate_api_key()),
                               "sk_live_acme");
        other_ = db::create_key(*conn_, "other", auth::key_hash_hex(auth::generate_api_key()),
                                "sk_live_othr");
    }

    db::NewJob job(std::vector<std::string> urls, const db::CreatedKey& key) {
        db::NewJob j;
        j.id = util::new_job_id(urls.size() > 1);
        j.account_id = key.account_id;
        j.api_key_id = key.key_id;
        j.endpoint = "url-to-pdf";
        j.is_batch = urls.size() > 1;
        j.is_sync = false;
        j.options = {{"output_filename", "r"}};
        j.base_url = "https://api.example.com";
        j.urls = std::move(urls);
        return j;
    }

    std::string load_task_status(std::int64_t task_id) {
        pqxx::nontransaction tx(*conn_);
        return tx.exec1("SELECT status FROM tasks WHERE id = " + std::to_string(task_id))[0]
            .as<std::string>();
    }

    // A task's successful outcome: its file stored under a fixed key.
    static db::TaskOutcome stored(std::int64_t task_id, std::int64_t size) {
        db::TaskOutcome ok;
        ok.task_id = task_id;
        ok.ok = true;
        ok.object_key = "live/files/x/url-to-pdf/a_1.pdf";
        ok.filename = "a.pdf";
        ok.file_size = size;
        return ok;
    }
    // Waits up to 5 s for a notification on the session.
    static std::vector<db::Notification> wait_notifications(db::Session& s) {
        for (int i = 0; i < 50; ++i) {
            auto notes = s.take_notifications();
            if (!notes.empty()) return notes;
            pollfd p{s.fd(), POLLIN, 0};
            ::poll(&p, 1, 100);
        }
        return {};
    }

    long long count(const std::string& sql) {
        pqxx::nontransaction tx(*conn_);
        return tx.exec(sql)[0][0].as<long long>();
    }

    std::unique_ptr<pqxx::connection> conn_;
    db::CreatedKey acme_;
    db::CreatedKey other_;
};

}  // namespace

TEST_F(JobRepositoryTest, InsertCreatesJobAndTasksAndNotifies) {
    db::Session listener(url(), {db::kTaskReadyChannel});
    const auto res = db::insert_job(
        *conn_,
        job({"https://a.example", R"(https://b.example/?q="é\u")", "https://a.example"}, acme_));
    EXPECT_TRUE(res.created);
    const auto view = db::load_job(*conn_, res.job_id, acme_.account_id);
    ASSERT_TRUE(view);
    EXPECT_EQ(view->status, "processing");
    EXPECT_EQ(view->options["output_filename"], "r");
    EXPECT_FALSE(view->completed_at);
    EXPECT_EQ(view->created_at.size(), 20u);  // 2026-01-01T00:00:00Z
    ASSERT_EQ(view->tasks.size(), 3u);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(view->tasks[i].position, i);
        EXPECT_EQ(view->tasks[i].status, "pending");
    }
    EXPECT_EQ(view->tasks[1].url, R"(https://b.example/?q="é\u")");  // stored as sent
    EXPECT_EQ(view->tasks[2].url, "https://a.example");              // duplicates allowed
    const auto notes = wait_notifications(listener);
    ASSERT_FALSE(notes.empty());
    EXPECT_EQ(notes[0].channel, "enconvert_task_ready");
}

TEST_F(JobRepositoryTest, InsertIsAtomic) {
    // Make the second task insert fail: neither the job nor the first task
    // may remain afterwards.
    {
        pqxx::work tx(*conn_);
        tx.exec(
            "CREATE FUNCTION fail_task() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.url = 'https://fail.example' THEN RAISE EXCEPTION 'boom'; END IF; "
            "RETURN NEW; END $$;"
            "CREATE TRIGGER fail_task BEFORE INSERT ON tasks FOR EACH ROW "
            "EXECUTE FUNCTION fail_task();");
        tx.commit();
    }
    EXPECT_THROW(db::insert_job(*conn_, job({"https://ok.example", "https://fail.example"}, acme_)),
                 pqxx::sql_error);
    {
        pqxx::work tx(*conn_);
        tx.exec("DROP TRIGGER fail_task ON tasks; DROP FUNCTION fail_task();");
        tx.commit();
    }
    EXPECT_EQ(count("SELECT count(*) FROM jobs"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM tasks"), 0);
}

TEST_F(JobRepositoryTest, IdempotencyKeyReturnsExistingJobPerAccount) {
    auto first = job({"https://a.example"}, acme_);
    first.idempotency_key = "idem-1";
    first.notification_email = "team@example.com";
    const auto r1 = db::insert_job(*conn_, first);
    auto second = job({"https://a.example"}, acme_);
    second.idempotency_key = "idem-1";
    const auto r2 = db::insert_job(*conn_, second);
    EXPECT_TRUE(r1.created);
    EXPECT_FALSE(r2.created);
    EXPECT_EQ(r2.job_id, r1.job_id);
    EXPECT_EQ(r2.notification_email, "team@example.com");
    auto third = job({"https://a.example"}, other_);
    third.idempotency_key = "idem-1";
    const auto r3 = db::insert_job(*conn_, third);
    EXPECT_TRUE(r3.created);
    EXPECT_EQ(count("SELECT count(*) FROM jobs"), 2);
    EXPECT_EQ(count("SELECT count(*) FROM tasks"), 2);
}

TEST_F(JobRepositoryTest, ConcurrentClaimsGetDisjointTasks) {
    db::insert_job(*conn_,
                   job({"https://1", "https://2", "https://3", "https://4", "https://5"}, acme_));
    pqxx::connection a(url());
    pqxx::connection b(url());
    pqxx::work tx_a(a);  // holds its row locks until committed
    const auto got_a = db::claim_tasks_in(tx_a, "worker-a", 300, 2);
    const auto got_b = db::claim_tasks(b, "worker-b", 300, 10);
    tx_a.commit();
    ASSERT_EQ(got_a.size(), 2u);
    ASSERT_EQ(got_b.size(), 3u);
    std::set<std::int64_t> ids;
    for (const auto& t : got_a) ids.insert(t.task_id);
    for (const auto& t : got_b) ids.insert(t.task_id);
    EXPECT_EQ(ids.size(), 5u);
    EXPECT_EQ(got_a[0].endpoint, "url-to-pdf");
    EXPECT_EQ(got_a[0].account_public_id.size(), 16u);
    EXPECT_EQ(got_a[0].attempts, 1);
    EXPECT_EQ(got_a[0].options["output_filename"], "r");
    EXPECT_TRUE(db::claim_tasks(b, "worker-b", 300, 10).empty());
    EXPECT_EQ(count("SELECT count(*) FROM tasks WHERE status = 'processing' AND "
                    "lease_expires_at > now() + interval '200 seconds'"),
              5);
}

TEST_F(JobRepositoryTest, ExpiredLeaseIsReclaimedAndOldOwnerLosesIt) {
    db::insert_job(*conn_, job({"https://1"}, acme_));
    const auto first = db::claim_tasks(*conn_, "dead-worker", 300, 10);
    ASSERT_EQ(first.size(), 1u);
    EXPECT_TRUE(db::claim_tasks(*conn_, "live-worker", 300, 10).empty());  // lease still valid
    {
        pqxx::work tx(*conn_);
        tx.exec("UPDATE tasks SET lease_expires_at = now() - interval '1 second'");
        tx.commit();
    }
    const auto again = db::claim_tasks(*conn_, "live-worker", 300, 10);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].task_id, first[0].task_id);
    EXPECT_EQ(again[0].attempts, 2);

    db::TaskOutcome o;
    o.task_id = first[0].task_id;
    o.ok = false;
    o.error_code = "timeout";
    o.error = "late";
    EXPECT_FALSE(db::finish_task(*conn_, "dead-worker", o).applied);
    o.ok = true;
    o.object_key = "live/files/x/url-to-pdf/a_1.pdf";
    o.filename = "a.pdf";
    o.file_size = 10;
    o.conversion_time = 1.5;
    const auto r = db::finish_task(*conn_, "live-worker", o);
    EXPECT_TRUE(r.applied);
    EXPECT_TRUE(r.job_terminal);
}

TEST_F(JobRepositoryTest, AnOutcomeRecordedAgainAfterAnInDoubtCommitChangesNothing) {
    // The scheduler records an outcome again when the connection was lost
    // during its COMMIT; if that COMMIT went through, the second call must
    // not read as "lease lost" (its file would be deleted).
    auto j = job({"https://1", "https://2"}, acme_);
    j.notification_email = "team@example.com";
    db::insert_job(*conn_, j);
    const auto claimed = db::claim_tasks(*conn_, "w", 300, 10);
    ASSERT_EQ(claimed.size(), 2u);
    const db::TaskOutcome ok = stored(claimed[0].task_id, 10);
    db::TaskOutcome bad;
    bad.task_id = claimed[1].task_id;
    bad.error_code = "timeout";
    bad.error = "slow";

    EXPECT_FALSE(db::finish_task(*conn_, "w", ok).recorded_before);
    const auto ok_again = db::finish_task(*conn_, "w", ok);
    EXPECT_TRUE(ok_again.applied);
    EXPECT_TRUE(ok_again.recorded_before);
    EXPECT_FALSE(ok_again.job_terminal);
    EXPECT_TRUE(db::finish_task(*conn_, "w", bad).job_terminal);
    const auto bad_again = db::finish_task(*conn_, "w", bad);
    EXPECT_TRUE(bad_again.applied && bad_again.recorded_before);
    // That earlier commit ended the job: said again (the job's metric and
    // log line), nothing queued again.
    EXPECT_TRUE(bad_again.job_terminal);
    EXPECT_EQ(bad_again.job_status, "completed");
    EXPECT_EQ(bad_again.endpoint, "url-to-pdf");
    EXPECT_EQ(count("SELECT count(*) FROM notifications"), 1);

    // Another outcome, or another owner, is not ours.
    db::TaskOutcome other = ok;
    other.object_key = "live/files/x/url-to-pdf/b_1.pdf";
    EXPECT_FALSE(db::finish_task(*conn_, "w", other).applied);
    EXPECT_FALSE(db::finish_task(*conn_, "v", ok).applied);
}

TEST_F(JobRepositoryTest, AnErrorQuotingAPagesBytesIsStoredAsValidText) {
    db::insert_job(*conn_, job({"https://1", "https://2"}, acme_));
    const auto claimed = db::claim_tasks(*conn_, "w", 300, 10);
    ASSERT_EQ(claimed.size(), 2u);
    db::TaskOutcome o;
    o.task_id = claimed[0].task_id;
    o.error_code = "http_error";
    o.error = std::string("Failed: \xc3(\0", 11);
    EXPECT_TRUE(db::finish_task(*conn_, "w", o).applied);
    o.task_id = claimed[1].task_id;
    o.retry = true;
    EXPECT_TRUE(db::finish_task(*conn_, "w", o).applied);
    EXPECT_EQ(count("SELECT count(*) FROM tasks WHERE error = 'Failed: \uFFFD(\uFFFD'"), 2);
}

TEST_F(JobRepositoryTest, FinishingLastTaskMakesJobTerminalAndNotifies) {
    db::Session listener(url(), {db::kJobDoneChannel});
    const auto ins = db::insert_job(*conn_, job({"https://1", "https://2"}, acme_));
    const auto claimed = db::claim_tasks(*conn_, "w", 300, 10);
    ASSERT_EQ(claimed.size(), 2u);

    db::TaskOutcome ok = stored(claimed[0].task_id, 184320);
    ok.conversion_time = 3.72;
    const auto r1 = db::finish_task(*conn_, "w", ok);
    EXPECT_TRUE(r1.applied);
    EXPECT_FALSE(r1.job_terminal);
    EXPECT_EQ(db::load_job(*conn_, ins.job_id, acme_.account_id)->status, "processing");

    db::TaskOutcome bad;
    bad.task_id = claimed[1].task_id;
    bad.error_code = "dns_error";
    bad.error = "Failed to load page: host not found";
    const auto r2 = db::finish_task(*conn_, "w", bad);
    EXPECT_TRUE(r2.applied);
    EXPECT_TRUE(r2.job_terminal);
    EXPECT_EQ(r2.job_id, ins.job_id);
    EXPECT_EQ(r2.job_status, "completed");
    EXPECT_EQ(r2.endpoint, "url-to-pdf");

    const auto view = db::load_job(*conn_, ins.job_id, acme_.account_id);
    EXPECT_EQ(view->status, "completed");
    ASSERT_TRUE(view->completed_at);
    EXPECT_EQ(view->tasks[0].status, "success");
    EXPECT_EQ(view->tasks[0].file_size, 184320);
    EXPECT_DOUBLE_EQ(*view->tasks[0].conversion_time, 3.72);
    EXPECT_EQ(view->tasks[1].status, "failed");
    EXPECT_EQ(view->tasks[1].error_code, "dns_error");

    const auto notes = wait_notifications(listener);
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_EQ(notes[0].channel, "enconvert_job_done");
    EXPECT_EQ(notes[0].payload, ins.job_id);
    // Finishing the same task again changes nothing (and says so).
    const auto again = db::finish_task(*conn_, "w", bad);
    EXPECT_TRUE(again.recorded_before);
    EXPECT_TRUE(again.job_terminal);  // the first call ended the job
}

TEST_F(JobRepositoryTest, AllTasksFailedMakesJobFailed) {
    const auto ins = db::insert_job(*conn_, job({"https://1"}, acme_));
    const auto claimed = db::claim_tasks(*conn_, "w", 300, 10);
    db::TaskOutcome bad;
    bad.task_id = claimed.at(0).task_id;
    bad.error_code = "timeout";
    bad.error = "The page did not finish loading in time.";
    const auto r = db::finish_task(*conn_, "w", bad);
    EXPECT_TRUE(r.job_terminal);
    EXPECT_EQ(r.job_status, "failed");
    EXPECT_EQ(db::load_job(*conn_, ins.job_id, acme_.account_id)->status, "failed");
}

TEST_F(JobRepositoryTest, CountsUnfinishedTasksOfEveryAccount) {
    EXPECT_EQ(db::count_unfinished_tasks(*conn_).pending, 0);
    db::insert_job(*conn_, job({"https://1", "https://2", "https://3"}, acme_));
    db::insert_job(*conn_, job({"https://4"}, other_));
    const auto claimed = db::claim_tasks(*conn_, "w", 300, 2);
    ASSERT_EQ(claimed.size(), 2u);
    db::TaskOutcome done;
    done.task_id = claimed[0].task_id;
    done.error_code = "timeout";
    done.error = "late";
    db::finish_task(*conn_, "w", done);

    const db::TaskCounts counts = db::count_unfinished_tasks(*conn_);
    EXPECT_EQ(counts.pending, 2);
    EXPECT_EQ(counts.processing, 1);
}

TEST_F(JobRepositoryTest, OtherAccountsJobIsNotFound) {
    const auto ins = db::insert_job(*conn_, job({"https://1"}, acme_));
    EXPECT_TRUE(db::load_job(*conn_, ins.job_id, acme_.account_id));
    EXPECT_FALSE(db::load_job(*conn_, ins.job_id, other_.account_id));
    EXPECT_FALSE(db::load_job(*conn_, "job_unknown", acme_.account_id));
}

// The polls of one wake-up are read together: each key finds only its own
// account's job, answers keep the keys' order, and a job read this way is
// the job load_job reads.
TEST_F(JobRepositoryTest, JobsReadTogetherAreEachOnlyTheirAccountsInTheKeysOrder) {
    const auto a1 = db::insert_job(*conn_, job({"https://1", "https://2"}, acme_));
    const auto a2 = db::insert_job(*conn_, job({"https://3"}, acme_));
    const auto o1 = db::insert_job(*conn_, job({"https://4"}, other_));
    const auto got = db::load_jobs(*conn_, {{a2.job_id, acme_.account_id},
                                            {o1.job_id, acme_.account_id},  // another's job
                                            {"job_unknown", acme_.account_id},
                                            {a1.job_id, acme_.account_id},
                                            {o1.job_id, other_.account_id},
                                            {a2.job_id, acme_.account_id},  // asked twice
                                            {a1.job_id, other_.account_id}});
    ASSERT_EQ(got.size(), 7u);
    ASSERT_TRUE(got[0]);
    EXPECT_EQ(got[0]->id, a2.job_id);
    EXPECT_FALSE(got[1]);
    EXPECT_FALSE(got[2]);
    ASSERT_TRUE(got[3]);
    EXPECT_EQ(got[3]->id, a1.job_id);
    ASSERT_TRUE(got[4]);
    EXPECT_EQ(got[4]->id, o1.job_id);
    EXPECT_EQ(got[4]->account_id, other_.account_id);
    ASSERT_TRUE(got[5]);
    EXPECT_EQ(got[5]->id, a2.job_id);
    EXPECT_FALSE(got[6]);

    const auto one = db::load_job(*conn_, a1.job_id, acme_.account_id);
    ASSERT_TRUE(one);
    EXPECT_EQ(got[3]->status, one->status);
    EXPECT_EQ(got[3]->created_at, one->created_at);
    EXPECT_EQ(got[3]->options, one->options);
    EXPECT_EQ(got[3]->notifications, one->notifications);
    ASSERT_EQ(got[3]->tasks.size(), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(got[3]->tasks[i].id, one->tasks[i].id);
        EXPECT_EQ(got[3]->tasks[i].url, one->tasks[i].url);
        EXPECT_EQ(got[3]->tasks[i].position, one->tasks[i].position);
    }
    EXPECT_TRUE(db::load_jobs(*conn_, {}).empty());
}

TEST_F(JobRepositoryTest, ReleaseGivesTasksBack) {
    db::insert_job(*conn_, job({"https://1", "https://2"}, acme_));
    ASSERT_EQ(db::claim_tasks(*conn_, "w", 300, 10).size(), 2u);
    EXPECT_EQ(db::release_tasks(*conn_, "w"), 2);
    const auto again = db::claim_tasks(*conn_, "w2", 300, 10);
    ASSERT_EQ(again.size(), 2u);
    EXPECT_EQ(again[0].attempts, 1);
    EXPECT_TRUE(db::ping(*conn_));
}

// A claim's number names the object key its render is stored under, so no
// two claims may have one. A claim committed without waiting for the WAL
// flush was lost with a database crash, and the next claim took the same
// number: two renders stored under one key, and the one whose result was
// refused removed the other's recorded file. Claims are durable now.
TEST_F(JobRepositoryTest, AClaimSurvivesADatabaseCrashRightAfterItsCommit) {
    db::insert_job(*conn_, job({"https://1"}, acme_));
    const auto claimed = db::claim_tasks(*conn_, "w", 300, 10);
    ASSERT_EQ(claimed.size(), 1u);
    conn_.reset();
    cluster_->crash_and_restart();
    conn_ = std::make_unique<pqxx::connection>(url());
    pqxx::nontransaction tx(*conn_);
    const pqxx::row row = tx.exec1("SELECT status, lease_owner, claims FROM tasks WHERE id = " +
                                   std::to_string(claimed[0].task_id));
    EXPECT_EQ(row[0].as<std::string>(), "processing");
    EXPECT_EQ(row[1].as<std::string>(), "w");
    EXPECT_EQ(row[2].as<int>(), 1);
}

// A worker whose lease ran out while a result waited to be recorded (the
// database unreachable) may claim the task again before it records that
// result: the old claim's result was recorded against the new claim,
// ending the task while its new render still ran.
TEST_F(JobRepositoryTest, AResultIsRecordedOnlyForTheClaimItIsOf) {
    db::insert_job(*conn_, job({"https://1"}, acme_));
    const auto first = db::claim_tasks(*conn_, "w", 300, 10);
    ASSERT_EQ(first.size(), 1u);
    {
        pqxx::work tx(*conn_);
        tx.exec("UPDATE tasks SET lease_expires_at = now() - interval '1 second'");
        tx.commit();
    }
    const auto second = db::claim_tasks(*conn_, "w", 300, 10);
    ASSERT_EQ(second.size(), 1u);
    ASSERT_EQ(second[0].claim, first[0].claim + 1);

    db::TaskOutcome old_result;
    old_result.task_id = first[0].task_id;
    old_result.claim = first[0].claim;
    old_result.error_code = "timeout";
    old_result.error = "late";
    EXPECT_FALSE(db::finish_task(*conn_, "w", old_result).applied);
    old_result.retry = true;  // a requeue is refused the same way
    EXPECT_FALSE(db::finish_task(*conn_, "w", old_result).applied);
    EXPECT_EQ(load_task_status(first[0].task_id), "processing");

    db::TaskOutcome current = old_result;
    current.retry = false;
    current.claim = second[0].claim;
    EXPECT_TRUE(db::finish_task(*conn_, "w", current).applied);
    EXPECT_EQ(load_task_status(first[0].task_id), "failed");
    // Nor is the old result taken for one whose COMMIT was in doubt because
    // the new claim recorded the same failure: the job's end was counted
    // and logged twice.
    old_result.retry = false;
    const db::FinishResult again = db::finish_task(*conn_, "w", old_result);
    EXPECT_FALSE(again.applied);
    EXPECT_FALSE(again.recorded_before);
}

// The attempt goes back with a handed-back task, the claim does not: the
// claim numbers the task's object key, and two claims with one key would
// replace (and remove) each other's file.
TEST_F(JobRepositoryTest, EveryClaimOfATaskHasItsOwnNumberAndTheJobsStamp) {
    db::insert_job(*conn_, job({"https://1"}, acme_));
    const auto first = db::claim_tasks(*conn_, "w", 300, 10);
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first[0].claim, 1);
    ASSERT_EQ(db::release_tasks(*conn_, "w"), 1);
    const auto second = db::claim_tasks(*conn_, "w2", 300, 10);
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(second[0].attempts, 1);
    EXPECT_EQ(second[0].claim, 2);
    pqxx::nontransaction tx(*conn_);
    // the handed-back claim may have stored a file it never recorded
    EXPECT_EQ(tx.exec1("SELECT abandoned_claims::text FROM tasks")[0].as<std::string>(), "{1}");
    const std::string created =
        tx.exec1(
              "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYYMMDD\"T\"HH24MISS\"Z\"') "
              "FROM jobs")[0]
            .as<std::string>();
    EXPECT_EQ(second[0].key_stamp, created);
    EXPECT_EQ(first[0].key_stamp, created);
    EXPECT_EQ(created.size(), 16u);
}

// A reconnected scheduler hands back what it holds but does not run (a
// claim committed unanswered): the tasks it names stay its own.
TEST_F(JobRepositoryTest, ReleaseKeepsTheTasksNamed) {
    db::insert_job(*conn_, job({"https://1", "https://2", "https://3"}, acme_));
    db::insert_job(*conn_, job({"https://4"}, acme_));
    const auto mine = db::claim_tasks(*conn_, "w", 300, 3);
    ASSERT_EQ(mine.size(), 3u);
    ASSERT_EQ(db::claim_tasks(*conn_, "other", 300, 10).size(), 1u);
    EXPECT_EQ(db::release_tasks(*conn_, "w", {mine[0].task_id, mine[2].task_id}), 1);
    const auto again = db::claim_tasks(*conn_, "w2", 300, 10);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].task_id, mine[1].task_id);
    EXPECT_EQ(again[0].attempts, 1);  // the released claim's attempt was given back
    auto kept =
        db::renew_leases(*conn_, "w", 300, {mine[0].task_id, mine[1].task_id, mine[2].task_id});
    std::sort(kept.begin(), kept.end());  // RETURNING has no order
    EXPECT_EQ(kept, (std::vector<std::int64_t>{mine[0].task_id, mine[2].task_id}));
}

TEST_F(JobRepositoryTest, SameKeyWithDifferentFingerprintIsAConflict) {
    auto first = job({"https://a.example"}, acme_);
    first.idempotency_key = "idem-2";
    first.request_fingerprint = std::string(64, 'a');
    first.is_sync = true;
    const auto r1 = db::insert_job(*conn_, first);
    ASSERT_TRUE(r1.created);

    auto same = job({"https://a.example"}, acme_);
    same.idempotency_key = "idem-2";
    same.request_fingerprint = std::string(64, 'a');
    const auto r2 = db::insert_job(*conn_, same);
    EXPECT_FALSE(r2.created);
    EXPECT_FALSE(r2.conflict);
    EXPECT_EQ(r2.job_id, r1.job_id);
    EXPECT_TRUE(r2.is_sync);  // the stored job's mode, not the retry's

    auto other = job({"https://b.example"}, acme_);
    other.idempotency_key = "idem-2";
    other.request_fingerprint = std::string(64, 'b');
    const auto r3 = db::insert_job(*conn_, other);
    EXPECT_FALSE(r3.created);
    EXPECT_TRUE(r3.conflict);
    EXPECT_EQ(count("SELECT count(*) FROM jobs"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM tasks"), 1);
}

TEST_F(JobRepositoryTest, JobWithoutStoredFingerprintReplays) {
    // Jobs created before migration 003 have no fingerprint: nothing to
    // compare, so a retry replays as it always did.
    auto first = job({"https://a.example"}, acme_);
    first.idempotency_key = "idem-old";
    const auto r1 = db::insert_job(*conn_, first);
    auto retry = job({"https://b.example"}, acme_);
    retry.idempotency_key = "idem-old";
    retry.request_fingerprint = std::string(64, 'c');
    const auto r2 = db::insert_job(*conn_, retry);
    EXPECT_FALSE(r2.conflict);
    EXPECT_EQ(r2.job_id, r1.job_id);
}

TEST_F(JobRepositoryTest, ConcurrentDuplicateWaitsAndReplaysInsteadOfFailing) {
    // The first insert is still uncommitted when the duplicate arrives: the
    // duplicate must wait on the unique index, then return the first job —
    // neither a second job nor a unique_violation.
    auto first = job({"https://a.example"}, acme_);
    first.idempotency_key = "idem-race";
    first.request_fingerprint = std::string(64, 'd');
    pqxx::connection holder(url());
    pqxx::work tx(holder);
    tx.exec_params(
        "INSERT INTO jobs (id, account_id, api_key_id, endpoint, is_batch, is_sync, base_url, "
        "idempotency_key, request_fingerprint) VALUES ($1, $2, $3, 'url-to-pdf', false, false, "
        "'https://h', $4, $5)",
        first.id, acme_.account_id, acme_.key_id, *first.idempotency_key,
        *first.request_fingerprint);

    auto dup = job({"https://a.example"}, acme_);
    dup.idempotency_key = "idem-race";
    dup.request_fingerprint = std::string(64, 'd');
    db::InsertResult dup_result;
    std::string dup_error;
    std::thread racer([&] {
        try {
            pqxx::connection c(url());
            dup_result = db::insert_job(c, dup);
        } catch (const std::exception& e) {
            dup_error = e.what();
        }
    });
    // Commit only once the duplicate is really blocked on our row lock, so
    // the waiting path is the one exercised (generous upper bound).
    bool waiting = false;
    for (int i = 0; i < 200 && !waiting; ++i) {
        waiting = count("SELECT count(*) FROM pg_locks WHERE NOT granted") > 0;
        if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(waiting) << "the duplicate insert never waited for the first";
    tx.commit();
    racer.join();
    EXPECT_EQ(dup_error, "");
    EXPECT_FALSE(dup_result.created);
    EXPECT_FALSE(dup_result.conflict);
    EXPECT_EQ(dup_result.job_id, first.id);
    EXPECT_EQ(count("SELECT count(*) FROM jobs"), 1);
}

TEST_F(JobRepositoryTest, PingAnswersAndLeavesSessionTimeoutAlone) {
    {
        pqxx::nontransaction tx(*conn_);
        tx.exec("SET statement_timeout = 12345");
    }
    EXPECT_TRUE(db::ping(*conn_, std::chrono::milliseconds(500)));
    pqxx::nontransaction tx(*conn_);
    EXPECT_EQ(tx.exec("SHOW statement_timeout")[0][0].as<std::string>(), "12345ms");
}

TEST_F(JobRepositoryTest, RetryPutsTaskBackToRunAloneWithAttemptCounted) {
    db::Session listener(url(), {db::kTaskReadyChannel});
    const auto ins = db::insert_job(*conn_, job({"https://1", "https://2"}, acme_));
    wait_notifications(listener);  // the insert's own wake-up
    const auto claimed = db::claim_tasks(*conn_, "w", 300, 10);
    ASSERT_EQ(claimed.size(), 2u);
    EXPECT_FALSE(claimed[0].run_alone);

    db::TaskOutcome retry;
    retry.task_id = claimed[0].task_id;
    retry.retry = true;
    retry.run_alone = true;
    retry.error_code = "renderer_crashed";
    retry.error = "Failed to render page: the renderer crashed";
    const auto r = db::finish_task(*conn_, "w", retry);
    EXPECT_TRUE(r.applied);
    EXPECT_FALSE(r.job_terminal);
    EXPECT_EQ(wait_notifications(listener).size(), 1u);  // schedulers wake up
    EXPECT_EQ(db::load_job(*conn_, ins.job_id, acme_.account_id)->tasks[0].status, "pending");
    // Another worker takes it: second attempt, alone.
    const auto again = db::claim_tasks(*conn_, "w2", 300, 10);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].task_id, claimed[0].task_id);
    EXPECT_EQ(again[0].attempts, 2);
    EXPECT_TRUE(again[0].run_alone);
    // The first worker's lease is gone.
    EXPECT_FALSE(db::finish_task(*conn_, "w", retry).applied);
}

TEST_F(JobRepositoryTest, StorageFullRetryWaitsAndKeepsTheAttempt) {
    db::insert_job(*conn_, job({"https://1"}, acme_));
    const auto claimed = db::claim_tasks(*conn_, "w", 300, 10);
    ASSERT_EQ(claimed.size(), 1u);
    db::TaskOutcome full;
    full.task_id = claimed[0].task_id;
    full.retry = true;
    full.count_attempt = false;
    full.retry_after_seconds = 3600;
    full.error_code = "storage_full";
    full.error = "The storage is full.";
    ASSERT_TRUE(db::finish_task(*conn_, "w", full).applied);
    EXPECT_TRUE(db::claim_tasks(*conn_, "w", 300, 10).empty());  // not before an hour
    {
        pqxx::work tx(*conn_);
        tx.exec("UPDATE tasks SET not_before = now() - interval '1 second'");
        tx.commit();
    }
    const auto again = db::claim_tasks(*conn_, "w", 300, 10);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].attempts, 1);  // the full disk was not the page's fault
    EXPECT_FALSE(again[0].run_alone);
}

// storage_full_give_up_seconds counts from the task's first full-storage
// hit: a job that waited a day in a backlog is not failed by a disk that
// has been full for a minute.
TEST_F(JobRepositoryTest, TheWaitForRoomIsCountedFromTheFirstFullStorageHit) {
    db::insert_job(*conn_, job({"https://1"}, acme_));
    {
        pqxx::work tx(*conn_);
        tx.exec("UPDATE jobs SET created_at = now() - interval '2 days'");
        tx.commit();
    }
    auto claimed = db::claim_tasks(*conn_, "w", 300, 10);
    ASSERT_EQ(claimed.size(), 1u);
    EXPECT_EQ(claimed[0].storage_full_seconds, 0);  // the job's age does not count

    db::TaskOutcome full;
    full.task_id = claimed[0].task_id;
    full.retry = true;
    full.count_attempt = false;
    full.error_code = "storage_full";
    full.error = "The storage is full.";
    const auto claim_again = [&] {
        auto again = db::claim_tasks(*conn_, "w", 300, 10);
        EXPECT_EQ(again.size(), 1u);
        return again.empty() ? db::ClaimedTask{} : again[0];
    };
    ASSERT_TRUE(db::finish_task(*conn_, "w", full).applied);
    EXPECT_LT(claim_again().storage_full_seconds, 60);
    {
        pqxx::work tx(*conn_);
        tx.exec("UPDATE tasks SET storage_full_since = now() - interval '3 hours'");
        tx.commit();
    }
    // A second hit keeps the first one's time.
    ASSERT_TRUE(db::finish_task(*conn_, "w", full).applied);
    const double waited = claim_again().storage_full_seconds;
    EXPECT_GE(waited, 3 * 3600);
    EXPECT_LT(waited, 3 * 3600 + 60);

    // Any other outcome in between starts the count anew.
    db::TaskOutcome crashed;
    crashed.task_id = full.task_id;
    crashed.retry = true;
    crashed.error_code = "renderer_crashed";
    crashed.error = "The renderer died.";
    ASSERT_TRUE(db::finish_task(*conn_, "w", crashed).applied);
    EXPECT_EQ(claim_again().storage_full_seconds, 0);
}

TEST_F(JobRepositoryTest, RenewLeasesKeepsOnlyTheOwnersLiveTasks) {
    db::insert_job(*conn_, job({"https://1", "https://2", "https://3"}, acme_));
    const auto mine = db::claim_tasks(*conn_, "w", 5, 2);
    ASSERT_EQ(mine.size(), 2u);
    const auto theirs = db::claim_tasks(*conn_, "other", 5, 1);
    ASSERT_EQ(theirs.size(), 1u);
    {
        // The second task's lease expired and another worker took it.
        pqxx::work tx(*conn_);
        tx.exec_params("UPDATE tasks SET lease_owner = 'thief' WHERE id = $1", mine[1].task_id);
        tx.commit();
    }
    const auto renewed =
        db::renew_leases(*conn_, "w", 300, {mine[0].task_id, mine[1].task_id, theirs[0].task_id});
    EXPECT_EQ(renewed, std::vector<std::int64_t>{mine[0].task_id});
    EXPECT_EQ(count("SELECT count(*) FROM tasks WHERE lease_expires_at > now() + "
                    "interval '200 seconds'"),
              1);
    EXPECT_TRUE(db::renew_leases(*conn_, "w", 300, {}).empty());
}

// ---- Fair claims (db/task_claims.h) ----------------------------------------

namespace {

std::set<std::int64_t> task_ids(const std::vector<db::ClaimedTask>& tasks) {
    std::set<std::int64_t> ids;
    for (const auto& t : tasks) ids.insert(t.task_id);
    return ids;
}

std::vector<std::string> urls(const std::string& prefix, int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) out.push_back("https://" + prefix + "/" + std::to_string(i));
    return out;
}

// Waits (bounded) until a transaction waits for an advisory lock.
bool someone_waits_for_advisory_lock(pqxx::connection& conn) {
    for (int i = 0; i < 200; ++i) {
        pqxx::nontransaction tx(conn);
        if (tx.exec(
                  "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")[0][0]
                .as<int>() > 0)
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
}

}  // namespace

TEST_F(JobRepositoryTest, ASmallJobIsClaimedAmongABigBatchOfAnotherAccount) {
    db::insert_job(*conn_, job(urls("a.example", 200), acme_));
    const auto small = db::insert_job(*conn_, job({"https://b.example"}, other_));
    const auto claimed = db::claim_batch(*conn_, "w", 300, {4, 0}).tasks;
    ASSERT_EQ(claimed.size(), 4u);
    // Turns: acme's oldest task, then the other account's, then acme again.
    EXPECT_EQ(claimed[0].url, "https://a.example/0");
    EXPECT_EQ(claimed[1].job_id, small.job_id);
    EXPECT_EQ(claimed[2].url, "https://a.example/1");
    EXPECT_EQ(claimed[3].url, "https://a.example/2");
}

TEST_F(JobRepositoryTest, AnAccountWithTasksInFlightWaitsBehindOneWithout) {
    db::insert_job(*conn_, job(urls("a.example", 50), acme_));
    ASSERT_EQ(db::claim_tasks(*conn_, "w", 300, 2).size(), 2u);  // both acme's
    const auto small = db::insert_job(*conn_, job({"https://b.example"}, other_));
    // One render slot frees up: it goes to the account running nothing,
    // although acme's waiting tasks are older.
    const auto next = db::claim_tasks(*conn_, "w", 300, 1);
    ASSERT_EQ(next.size(), 1u);
    EXPECT_EQ(next[0].job_id, small.job_id);
    // A dead worker's tasks (expired leases) are not in flight: they are
    // runnable again, in turn with the other accounts' and oldest first.
    {
        pqxx::work tx(*conn_);
        tx.exec(
            "UPDATE tasks SET lease_expires_at = now() - interval '1 second' "
            "WHERE status = 'processing'");
        tx.commit();
    }
    const auto reclaimed = db::claim_tasks(*conn_, "w2", 300, 2);
    ASSERT_EQ(reclaimed.size(), 2u);
    EXPECT_EQ(reclaimed[0].url, "https://a.example/0");
    EXPECT_EQ(reclaimed[0].attempts, 2);
    EXPECT_EQ(reclaimed[1].job_id, small.job_id);
    EXPECT_EQ(reclaimed[1].attempts, 2);
}

TEST_F(JobRepositoryTest, ConcurrentClaimsOfSeveralAccountsAreDisjoint) {
    db::insert_job(*conn_, job(urls("a.example", 3), acme_));
    db::insert_job(*conn_, job(urls("b.example", 3), other_));
    pqxx::connection a(url());
    pqxx::connection b(url());
    pqxx::work tx_a(a);  // holds its row locks until committed
    const auto got_a = db::claim_batch_in(tx_a, "worker-a", 300, {2, 0});
    const auto got_b = db::claim_batch(b, "worker-b", 300, {10, 0});
    tx_a.commit();
    ASSERT_EQ(got_a.tasks.size(), 2u);
    ASSERT_EQ(got_b.tasks.size(), 4u);
    // worker-b passed over the two tasks worker-a was taking: it is told to
    // look again soon, since it may have been short-changed.
    EXPECT_TRUE(got_b.contended);
    EXPECT_FALSE(got_a.contended);
    auto ids = task_ids(got_a.tasks);
    ids.merge(task_ids(got_b.tasks));
    EXPECT_EQ(ids.size(), 6u);
    EXPECT_TRUE(db::claim_tasks(b, "worker-b", 300, 10).empty());
}

TEST_F(JobRepositoryTest, InFlightLimitHoldsAcrossConcurrentWorkers) {
    db::insert_job(*conn_, job(urls("a.example", 10), acme_));
    const db::ClaimLimits at_most_3{10, 3};
    pqxx::connection a(url());
    pqxx::work tx_a(a);  // worker-a is claiming: 2 tasks, not committed yet
    const auto got_a = db::claim_batch_in(tx_a, "worker-a", 300, {2, 3});
    ASSERT_EQ(got_a.tasks.size(), 2u);

    // worker-b claims at the same moment: it must count worker-a's two, so
    // it waits for worker-a's claim to end instead of taking 3 more.
    db::ClaimResult got_b;
    std::string error;
    std::thread worker_b([&] {
        try {
            pqxx::connection b(url());
            got_b = db::claim_batch(b, "worker-b", 300, at_most_3);
        } catch (const std::exception& e) {
            error = e.what();
        }
    });
    const bool waited = someone_waits_for_advisory_lock(*conn_);
    tx_a.commit();
    worker_b.join();
    EXPECT_TRUE(waited) << "worker-b never waited for worker-a's claim";
    EXPECT_EQ(error, "");
    EXPECT_EQ(got_b.tasks.size(), 1u);
    EXPECT_EQ(count("SELECT count(*) FROM tasks WHERE status = 'processing'"), 3);

    // Full: nothing more of acme's, but another account is not held back.
    EXPECT_TRUE(db::claim_batch(*conn_, "w", 300, at_most_3).tasks.empty());
    db::insert_job(*conn_, job(urls("b.example", 2), other_));
    EXPECT_EQ(db::claim_batch(*conn_, "w", 300, at_most_3).tasks.size(), 2u);
    // A finished task frees its place.
    db::TaskOutcome done;
    done.task_id = got_a.tasks[0].task_id;
    done.ok = true;
    done.object_key = "live/files/x/url-to-pdf/a_1.pdf";
    done.filename = "a.pdf";
    ASSERT_TRUE(db::finish_task(*conn_, "worker-a", done).applied);
    const auto more = db::claim_batch(*conn_, "w", 300, at_most_3).tasks;
    ASSERT_EQ(more.size(), 1u);
    EXPECT_EQ(more[0].url.rfind("https://a.example/", 0), 0u);
}

TEST_F(JobRepositoryTest, InFlightLimitDoesNotCountExpiredLeases) {
    db::insert_job(*conn_, job(urls("a.example", 3), acme_));
    const auto first = db::claim_batch(*conn_, "dead-worker", 300, {10, 1}).tasks;
    ASSERT_EQ(first.size(), 1u);
    EXPECT_TRUE(db::claim_batch(*conn_, "w", 300, {10, 1}).tasks.empty());
    {
        pqxx::work tx(*conn_);
        tx.exec("UPDATE tasks SET lease_expires_at = now() - interval '1 second'");
        tx.commit();
    }
    // The dead worker's task is taken back, and it alone fills the place.
    const auto again = db::claim_batch(*conn_, "w", 300, {10, 1}).tasks;
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].task_id, first[0].task_id);
}

// ---- Queue bounds (db/queue_admission.h) -----------------------------------

TEST_F(JobRepositoryTest, AccountBoundRefusesAWholeBatchAndInsertsNothing) {
    const db::QueueLimits limits{0, 5};
    EXPECT_TRUE(db::insert_job(*conn_, job(urls("a", 3), acme_), limits).created);
    const auto refused = db::insert_job(*conn_, job(urls("b", 3), acme_), limits);
    EXPECT_FALSE(refused.created);
    EXPECT_EQ(refused.queue_full, db::QueueBound::account);
    EXPECT_EQ(count("SELECT count(*) FROM jobs"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM tasks"), 3);
    // Exactly up to the bound; another account has a bound of its own.
    EXPECT_TRUE(db::insert_job(*conn_, job(urls("c", 2), acme_), limits).created);
    EXPECT_TRUE(db::insert_job(*conn_, job(urls("d", 5), other_), limits).created);
    EXPECT_EQ(db::insert_job(*conn_, job(urls("e", 1), acme_), limits).queue_full,
              db::QueueBound::account);
    // Finished tasks leave room.
    const auto claimed = db::claim_tasks(*conn_, "w", 300, 1);
    ASSERT_EQ(claimed.size(), 1u);
    EXPECT_EQ(claimed[0].url, "https://a/0");  // acme's oldest
    db::TaskOutcome failed;
    failed.task_id = claimed[0].task_id;
    failed.error_code = "timeout";
    failed.error = "late";
    ASSERT_TRUE(db::finish_task(*conn_, "w", failed).applied);
    EXPECT_TRUE(db::insert_job(*conn_, job(urls("f", 1), acme_), limits).created);
}

TEST_F(JobRepositoryTest, GlobalBoundRefusesEveryAccount) {
    const db::QueueLimits limits{4, 0};
    EXPECT_TRUE(db::insert_job(*conn_, job(urls("a", 3), acme_), limits).created);
    EXPECT_EQ(db::insert_job(*conn_, job(urls("b", 2), other_), limits).queue_full,
              db::QueueBound::global);
    EXPECT_EQ(db::insert_job(*conn_, job(urls("c", 5), other_), limits).queue_full,
              db::QueueBound::global);  // larger than the bound itself
    EXPECT_TRUE(db::insert_job(*conn_, job(urls("d", 1), other_), limits).created);
    EXPECT_EQ(count("SELECT count(*) FROM tasks"), 4);
    // The account bound is checked first.
    EXPECT_EQ(db::insert_job(*conn_, job(urls("e", 2), acme_), {4, 3}).queue_full,
              db::QueueBound::account);
    EXPECT_EQ(count("SELECT count(*) FROM jobs"), 2);
}

TEST_F(JobRepositoryTest, ReplayOfAnEarlierJobIsAnsweredWhenTheQueueIsFull) {
    const db::QueueLimits limits{0, 2};
    auto first = job(urls("a", 2), acme_);
    first.idempotency_key = "idem-full";
    first.request_fingerprint = std::string(64, 'a');
    const auto r1 = db::insert_job(*conn_, first, limits);
    ASSERT_TRUE(r1.created);
    auto replay = job(urls("a", 2), acme_);
    replay.idempotency_key = "idem-full";
    replay.request_fingerprint = std::string(64, 'a');
    const auto r2 = db::insert_job(*conn_, replay, limits);
    EXPECT_FALSE(r2.queue_full);
    EXPECT_FALSE(r2.created);
    EXPECT_EQ(r2.job_id, r1.job_id);
    // The same key with another request is still the 409, not a full queue.
    auto other = job(urls("z", 1), acme_);
    other.idempotency_key = "idem-full";
    other.request_fingerprint = std::string(64, 'b');
    const auto r3 = db::insert_job(*conn_, other, limits);
    EXPECT_FALSE(r3.queue_full);
    EXPECT_TRUE(r3.conflict);
    // A new key is a new job: refused.
    auto fresh = job(urls("y", 1), acme_);
    fresh.idempotency_key = "idem-new";
    EXPECT_EQ(db::insert_job(*conn_, fresh, limits).queue_full, db::QueueBound::account);
    EXPECT_EQ(count("SELECT count(*) FROM jobs"), 1);
}

TEST_F(JobRepositoryTest, ConcurrentSubmissionsOfOneAccountCannotOvershootItsBound) {
    const db::QueueLimits limits{0, 5};
    pqxx::connection a(url());
    pqxx::work tx_a(a);  // the first submission is inserted, not committed yet
    ASSERT_TRUE(db::insert_job_in(tx_a, job(urls("a", 3), acme_), limits).created);

    db::InsertResult second;
    std::string error;
    std::thread submitter([&] {
        try {
            pqxx::connection b(url());
            second = db::insert_job(b, job(urls("b", 3), acme_), limits);
        } catch (const std::exception& e) {
            error = e.what();
        }
    });
    const bool waited = someone_waits_for_advisory_lock(*conn_);
    tx_a.commit();
    submitter.join();
    EXPECT_TRUE(waited) << "the second submission never waited for the first";
    EXPECT_EQ(error, "");
    EXPECT_EQ(second.queue_full, db::QueueBound::account);
    EXPECT_EQ(count("SELECT count(*) FROM tasks"), 3);
}

TEST_F(JobRepositoryTest, TasksInsertedByThePreviousReleaseGetTheirJobsAccount) {
    // A worker not yet upgraded inserts tasks without account_id (migration
    // 006): they are still counted and claimed as their account's.
    auto j = job({"https://new.example"}, other_);
    db::insert_job(*conn_, j);
    {
        pqxx::work tx(*conn_);
        tx.exec_params(
            "INSERT INTO jobs (id, account_id, api_key_id, endpoint, is_batch, is_sync, base_url) "
            "VALUES ('job_old', $1, $2, 'url-to-pdf', false, false, 'https://h')",
            acme_.account_id, acme_.key_id);
        tx.exec("INSERT INTO tasks (job_id, position, url) VALUES ('job_old', 0, 'https://old')");
        tx.commit();
    }
    EXPECT_EQ(count("SELECT count(*) FROM tasks WHERE job_id = 'job_old' AND account_id = " +
                    std::to_string(acme_.account_id)),
              1);
    EXPECT_EQ(db::insert_job(*conn_, job({"https://x"}, acme_), {0, 1}).queue_full,
              db::QueueBound::account);
}

TEST_F(JobRepositoryTest, QueueCountsFollowEveryChangeOfTheTasks) {
    // queue_counts (migration 011) must always equal a recount of the
    // unfinished tasks: the admission check reads it instead of counting.
    const auto mismatches = [&] {
        return count(
            "WITH real AS (SELECT account_id, count(*) AS n FROM tasks "
            "              WHERE status IN ('pending', 'processing') GROUP BY account_id), "
            "     kept AS (SELECT account_id, unfinished AS n FROM queue_counts WHERE unfinished "
            "<> 0) "
            "SELECT count(*) FROM ((SELECT * FROM real EXCEPT SELECT * FROM kept) "
            "                      UNION ALL (SELECT * FROM kept EXCEPT SELECT * FROM real)) d");
    };
    const auto kept = [&](const db::CreatedKey& key) {
        return count("SELECT coalesce((SELECT unfinished FROM queue_counts WHERE account_id = " +
                     std::to_string(key.account_id) + "), 0)");
    };
    const auto a = db::insert_job(*conn_, job(urls("a", 3), acme_));
    db::insert_job(*conn_, job(urls("b", 2), other_));
    EXPECT_EQ(kept(acme_), 3);
    EXPECT_EQ(kept(other_), 2);
    EXPECT_EQ(mismatches(), 0);

    auto claimed = db::claim_tasks(*conn_, "w", 300, 10);  // claims change nothing
    ASSERT_EQ(claimed.size(), 5u);
    EXPECT_EQ(kept(acme_), 3);
    db::renew_leases(*conn_, "w", 300, {claimed[0].task_id, claimed[4].task_id});
    EXPECT_EQ(mismatches(), 0);

    enum class Ends { ok, retry, failed };
    const auto finish = [&](const db::ClaimedTask& task, const std::string& owner, Ends how) {
        db::TaskOutcome o;
        o.task_id = task.task_id;
        o.ok = how == Ends::ok;
        o.retry = how == Ends::retry;
        if (o.ok) {
            o.object_key = "live/files/x/url-to-pdf/a.pdf";
            o.filename = "a.pdf";
        } else {
            o.error_code = "timeout";
            o.error = "late";
        }
        return db::finish_task(*conn_, owner, o).applied;
    };
    ASSERT_TRUE(finish(claimed[0], "w", Ends::ok));
    ASSERT_TRUE(finish(claimed[1], "w", Ends::retry));
    ASSERT_TRUE(finish(claimed[3], "w", Ends::failed));
    EXPECT_EQ(mismatches(), 0);
    EXPECT_EQ(db::release_tasks(*conn_, "w") > 0, true);
    EXPECT_EQ(mismatches(), 0);

    // Every remaining task of acme finished, then its job expires.
    for (const auto& t : db::claim_tasks(*conn_, "w2", 300, 10))
        ASSERT_TRUE(finish(t, "w2", Ends::failed));
    EXPECT_EQ(kept(acme_), 0);
    EXPECT_EQ(kept(other_), 0);
    {
        pqxx::work tx(*conn_);
        db::expire_jobs(tx, {a.job_id});
        tx.commit();
    }
    EXPECT_EQ(mismatches(), 0);

    // A statement that changes several accounts at once, and one that
    // deletes unfinished tasks.
    db::insert_job(*conn_, job(urls("c", 4), acme_));
    db::insert_job(*conn_, job(urls("d", 1), other_));
    {
        pqxx::work tx(*conn_);
        tx.exec(
            "UPDATE tasks SET status = 'failed', error = 'x' "
            "WHERE status = 'pending' AND position < 2");
        tx.exec("DELETE FROM tasks WHERE status = 'pending' AND position = 3");
        tx.commit();
    }
    EXPECT_EQ(kept(acme_), 1);
    EXPECT_EQ(kept(other_), 0);
    EXPECT_EQ(mismatches(), 0);
}

TEST_F(JobRepositoryTest, TheAccountBoundReadsTheKeptNumber) {
    // Proof that the bound reads queue_counts and not the tasks: a number
    // set by hand is what the check goes by.
    db::insert_job(*conn_, job(urls("a", 1), acme_));
    {
        pqxx::work tx(*conn_);
        tx.exec_params("UPDATE queue_counts SET unfinished = 50 WHERE account_id = $1",
                       acme_.account_id);
        tx.commit();
    }
    EXPECT_EQ(db::insert_job(*conn_, job(urls("b", 1), acme_), {0, 50}).queue_full,
              db::QueueBound::account);
    EXPECT_EQ(db::insert_job(*conn_, job(urls("c", 1), other_), {50, 0}).queue_full,
              db::QueueBound::global);
    EXPECT_TRUE(db::insert_job(*conn_, job(urls("d", 1), other_), {52, 50}).created);
}
