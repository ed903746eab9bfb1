// The notifier's side of the outbox against a real PostgreSQL: claims with
// a lease, outcomes recorded only by the lease's owner, claims handed back,
// rows of a dead notifier settled, and when the next row is due.
#include "db/notification_store.h"

#include <gtest/gtest.h>

#include "outbox_fixture.h"

using namespace enconvert;

namespace {

using Row = test_support::NotificationRow;

class NotificationStoreTest : public test_support::PgAccountTest {
  protected:
    // A finished job with a webhook (and an email when asked), both pending.
    std::string job_with_webhook(bool email = false) {
        return test_support::insert_terminal_job(
            *conn_, key_, std::string("https://hooks.example.com/h"),
            email ? std::optional<std::string>("team@example.com") : std::nullopt);
    }

    Row row(const std::string& job_id, const std::string& type) {
        return test_support::notification_row(*conn_, job_id, type);
    }

    void shift(const std::string& column, const std::string& job_id, const std::string& by) {
        pqxx::work tx(*conn_);
        tx.exec_params(
            "UPDATE notifications SET " + column + " = now() + $2::interval " + "WHERE job_id = $1",
            job_id, by);
        tx.commit();
    }
};

}  // namespace

TEST_F(NotificationStoreTest, ADueRowIsClaimedOnceWithItsAccountAndAttempt) {
    const std::string id = job_with_webhook();
    const auto claimed = db::claim_notifications(*conn_, "n1", 60, 10);
    ASSERT_EQ(claimed.size(), 1u);
    EXPECT_EQ(claimed[0].job_id, id);
    EXPECT_EQ(claimed[0].type, "webhook");
    EXPECT_EQ(claimed[0].target, "https://hooks.example.com/h");
    EXPECT_EQ(claimed[0].attempts, 1);
    EXPECT_EQ(claimed[0].account_id, key_.account_id);
    EXPECT_EQ(row(id, "webhook").state, "sending");
    // Held by n1: nobody claims it again while the lease runs.
    EXPECT_TRUE(db::claim_notifications(*conn_, "n2", 60, 10).empty());
}

TEST_F(NotificationStoreTest, ARowNotDueYetIsNotClaimed) {
    const std::string id = job_with_webhook();
    shift("next_attempt_at", id, "1 hour");
    EXPECT_TRUE(db::claim_notifications(*conn_, "n1", 60, 10).empty());
    EXPECT_EQ(row(id, "webhook").state, "pending");
}

TEST_F(NotificationStoreTest, OnlyTheLeaseOwnerRecordsTheOutcome) {
    const std::string id = job_with_webhook();
    const auto claimed = db::claim_notifications(*conn_, "n1", 60, 10);
    ASSERT_EQ(claimed.size(), 1u);
    db::DeliveryRecord r;
    r.id = claimed[0].id;
    r.attempts = claimed[0].attempts;
    r.state = db::DeliveryRecord::State::delivered;
    r.response_code = 204;
    EXPECT_FALSE(db::record_delivery(*conn_, "n2", r));
    EXPECT_EQ(row(id, "webhook").state, "sending");
    EXPECT_TRUE(db::record_delivery(*conn_, "n1", r));
    const Row done = row(id, "webhook");
    EXPECT_EQ(done.state, "delivered");
    EXPECT_EQ(done.response_code, 204);
    EXPECT_FALSE(done.claimed);
    EXPECT_FALSE(db::record_delivery(*conn_, "n1", r));  // once
}

TEST_F(NotificationStoreTest, ARetryGoesBackToPendingAfterItsDelay) {
    const std::string id = job_with_webhook();
    const auto claimed = db::claim_notifications(*conn_, "n1", 60, 10);
    ASSERT_EQ(claimed.size(), 1u);
    db::DeliveryRecord r;
    r.id = claimed[0].id;
    r.attempts = claimed[0].attempts;
    r.state = db::DeliveryRecord::State::retry;
    r.response_code = 503;
    r.error = "HTTP 503";
    r.retry_after = std::chrono::seconds(120);
    ASSERT_TRUE(db::record_delivery(*conn_, "n1", r));
    const Row pending = row(id, "webhook");
    EXPECT_EQ(pending.state, "pending");
    EXPECT_EQ(pending.attempts, 1);
    EXPECT_EQ(pending.error, "HTTP 503");
    EXPECT_TRUE(db::claim_notifications(*conn_, "n1", 60, 10).empty());
    const auto due = db::seconds_until_next_due(*conn_);
    ASSERT_TRUE(due.has_value());
    EXPECT_GT(*due, 100.0);
    EXPECT_LE(*due, 120.0);
}

TEST_F(NotificationStoreTest, AReleasedClaimIsPendingWithItsAttemptUndone) {
    const std::string id = job_with_webhook();
    const auto claimed = db::claim_notifications(*conn_, "n1", 60, 10);
    ASSERT_EQ(claimed.size(), 1u);
    EXPECT_FALSE(db::release_claim(*conn_, "n2", claimed[0].id));
    EXPECT_TRUE(db::release_claim(*conn_, "n1", claimed[0].id));
    EXPECT_FALSE(db::release_claim(*conn_, "n1", claimed[0].id));  // once
    const Row r = row(id, "webhook");
    EXPECT_EQ(r.state, "pending");
    EXPECT_EQ(r.attempts, 0);
    EXPECT_FALSE(r.claimed);
}

TEST_F(NotificationStoreTest, ADeadNotifiersRowsAreSettledByTheirRetriesLeft) {
    const std::string id = job_with_webhook(true);
    ASSERT_EQ(db::claim_notifications(*conn_, "dead", 60, 10).size(), 2u);
    // Leases still running: nothing to settle.
    EXPECT_EQ(db::settle_interrupted(*conn_, 1, 0), 0);
    shift("lease_expires_at", id, "-1 second");
    // One attempt made each: the webhook has a retry left, the email none.
    EXPECT_EQ(db::settle_interrupted(*conn_, 1, 0), 2);
    const Row webhook = row(id, "webhook");
    EXPECT_EQ(webhook.state, "pending");
    EXPECT_EQ(webhook.error, db::kInterruptedError);
    EXPECT_FALSE(webhook.claimed);
    const Row email = row(id, "email");
    EXPECT_EQ(email.state, "failed");
    EXPECT_EQ(email.error, db::kInterruptedError);
    EXPECT_EQ(email.attempts, 1);
    EXPECT_EQ(db::settle_interrupted(*conn_, 1, 0), 0);  // settled once
}

TEST_F(NotificationStoreTest, ALateOutcomeReplacesTheInterruptedGuess) {
    // n1 sent both, then lost the database past its lease; another worker
    // settled the rows as interrupted (the webhook to be resent, the email
    // failed). What n1 then records is what happened.
    const std::string id = job_with_webhook(true);
    const auto claimed = db::claim_notifications(*conn_, "n1", 60, 10);
    ASSERT_EQ(claimed.size(), 2u);
    shift("lease_expires_at", id, "-1 second");
    ASSERT_EQ(db::settle_interrupted(*conn_, 1, 0), 2);
    for (const auto& c : claimed) {
        db::DeliveryRecord r;
        r.id = c.id;
        r.attempts = c.attempts;
        r.state = db::DeliveryRecord::State::delivered;
        r.response_code = c.type == "webhook" ? std::optional<int>(204) : std::nullopt;
        EXPECT_TRUE(db::record_delivery(*conn_, "n1", r)) << c.type;
        EXPECT_FALSE(db::record_delivery(*conn_, "n1", r)) << c.type;  // once
    }
    const Row webhook = row(id, "webhook");
    EXPECT_EQ(webhook.state, "delivered");
    EXPECT_EQ(webhook.response_code, 204);
    EXPECT_FALSE(webhook.error.has_value());
    EXPECT_EQ(row(id, "email").state, "delivered");
    // Nothing left to resend.
    EXPECT_TRUE(db::claim_notifications(*conn_, "n2", 60, 10).empty());
}

TEST_F(NotificationStoreTest, ALateOutcomeNeverOverwritesALaterAttempt) {
    const std::string id = job_with_webhook();
    const auto first = db::claim_notifications(*conn_, "n1", 60, 10);
    ASSERT_EQ(first.size(), 1u);
    shift("lease_expires_at", id, "-1 second");
    ASSERT_EQ(db::settle_interrupted(*conn_, 1, 0), 1);  // pending again
    const auto second = db::claim_notifications(*conn_, "n2", 60, 10);
    ASSERT_EQ(second.size(), 1u);
    db::DeliveryRecord late;
    late.id = first[0].id;
    late.attempts = first[0].attempts;
    late.state = db::DeliveryRecord::State::failed;
    late.error = "HTTP 500";
    // n2's attempt is under way: n1's outcome is not recorded over it...
    EXPECT_FALSE(db::record_delivery(*conn_, "n1", late));
    EXPECT_EQ(row(id, "webhook").state, "sending");
    // ...nor over what n2 recorded.
    db::DeliveryRecord done;
    done.id = second[0].id;
    done.attempts = second[0].attempts;
    done.state = db::DeliveryRecord::State::delivered;
    done.response_code = 200;
    ASSERT_TRUE(db::record_delivery(*conn_, "n2", done));
    EXPECT_FALSE(db::record_delivery(*conn_, "n1", late));
    const Row r = row(id, "webhook");
    EXPECT_EQ(r.state, "delivered");
    EXPECT_EQ(r.attempts, 2);
}

// The same notifier's outcome of attempt 1, held back past its lease while
// it claimed the row again (attempt 2): recorded over attempt 2, it ended
// that attempt's lease and the real outcome of 2 was discarded.
TEST_F(NotificationStoreTest, AnOutcomeIsRecordedForItsOwnAttemptOnly) {
    const std::string id = job_with_webhook();
    const auto first = db::claim_notifications(*conn_, "n1", 60, 10);
    ASSERT_EQ(first.size(), 1u);
    shift("lease_expires_at", id, "-1 second");
    ASSERT_EQ(db::settle_interrupted(*conn_, 1, 0), 1);
    const auto second = db::claim_notifications(*conn_, "n1", 60, 10);
    ASSERT_EQ(second.size(), 1u);
    ASSERT_EQ(second[0].attempts, 2);
    db::DeliveryRecord old;
    old.id = first[0].id;
    old.attempts = first[0].attempts;
    old.state = db::DeliveryRecord::State::failed;
    old.error = "HTTP 500";
    EXPECT_FALSE(db::record_delivery(*conn_, "n1", old));
    const Row during = row(id, "webhook");
    EXPECT_EQ(during.state, "sending");
    EXPECT_TRUE(during.claimed);
    db::DeliveryRecord now;
    now.id = second[0].id;
    now.attempts = second[0].attempts;
    now.state = db::DeliveryRecord::State::delivered;
    now.response_code = 200;
    EXPECT_TRUE(db::record_delivery(*conn_, "n1", now));
    EXPECT_EQ(row(id, "webhook").state, "delivered");
}

TEST_F(NotificationStoreTest, NextDueIsUnknownWithoutPendingRowsAndNeverNegative) {
    // Nothing pending must not read as "due now": the notifier would poll
    // the database in a busy loop.
    EXPECT_EQ(db::seconds_until_next_due(*conn_), std::nullopt);
    const std::string id = job_with_webhook();
    shift("next_attempt_at", id, "-1 minute");
    EXPECT_EQ(db::seconds_until_next_due(*conn_), 0.0);
    shift("next_attempt_at", id, "1 hour");
    const auto later = db::seconds_until_next_due(*conn_);
    ASSERT_TRUE(later.has_value());
    EXPECT_GT(*later, 3000.0);
}
