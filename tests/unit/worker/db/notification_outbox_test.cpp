// The core's side of the outbox: one row per notification a finished job
// asked for, written once, listed with the job's status.
#include "db/notification_outbox.h"

#include <gtest/gtest.h>

#include "auth/api_keys.h"
#include "db/job_repository.h"
#include "db/key_repository.h"
#include "pg_fixture.h"
#include "terminal_job.h"

using namespace enconvert;
using nlohmann::json;

namespace {

class NotificationOutboxTest : public test_support::PgTest {
  protected:
    void SetUp() override {
        PgTest::SetUp();
        if (HasFatalFailure()) return;
        conn_ = std::make_unique<pqxx::connection>(url());
        key_ = db::create_key(*conn_, "acme", auth::key_hash_hex(auth::generate_api_key()),
                              "sk_live_acme");
    }

    std::unique_ptr<pqxx::connection> conn_;
    db::CreatedKey key_;
};

}  // namespace

TEST_F(NotificationOutboxTest, RowsAreWrittenOnceAndListedInStatus) {
    const std::string hook = "https://hooks.example.com/never-sent";
    const std::string id =
        test_support::insert_terminal_job(*conn_, key_, hook, std::string("team@example.com"));
    pqxx::work tx(*conn_);
    EXPECT_EQ(db::enqueue_notifications(tx, id), 0);  // already there
    tx.commit();
    const json list = db::load_job(*conn_, id, key_.account_id)->notifications;
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0], (json{{"type", "webhook"},
                             {"target", hook},
                             {"state", "pending"},
                             {"response_code", nullptr},
                             {"error", nullptr},
                             {"attempts", 0}}));
    EXPECT_EQ(list[1]["type"], "email");
    EXPECT_EQ(list[1]["target"], "team@example.com");
    const json none =
        db::load_job(*conn_,
                     test_support::insert_terminal_job(*conn_, key_, std::nullopt, std::nullopt),
                     key_.account_id)
            ->notifications;
    EXPECT_EQ(none, json::array());
}
