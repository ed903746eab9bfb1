// The core's side of the outbox: one row per notification a finished job
// asked for, written once, listed with the job's status.
#include "db/notification_outbox.h"

#include <gtest/gtest.h>

#include "db/job_repository.h"
#include "outbox_fixture.h"

using namespace enconvert;
using nlohmann::json;

namespace {

using NotificationOutboxTest = test_support::PgAccountTest;

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
