// A ReconnectingSession sets its statement_timeout on every connection it
// opens, the first and each after a loss.
#include "db/reconnecting_session.h"

#include <gtest/gtest.h>

#include "pg_fixture.h"

using namespace enconvert;

namespace {

class ReconnectingSessionTest : public test_support::PgTest {
  protected:
    static std::string setting(db::ReconnectingSession& s, const char* name) {
        pqxx::read_transaction tx(s->conn());
        return tx.exec_params1("SELECT current_setting($1)", name)[0].as<std::string>();
    }
};

}  // namespace

TEST_F(ReconnectingSessionTest, EveryConnectionItOpensHasItsStatementTimeout) {
    db::ReconnectingSession session(url(), {}, "scheduler", std::chrono::milliseconds(1500));
    EXPECT_EQ(setting(session, "statement_timeout"), "1500ms");
    session.drop("test");
    ASSERT_TRUE(session.ensure_now());
    EXPECT_EQ(setting(session, "statement_timeout"), "1500ms");
}

TEST_F(ReconnectingSessionTest, WithoutOneTheServerDefaultStays) {
    db::ReconnectingSession session(url(), {}, "janitor");
    EXPECT_EQ(setting(session, "statement_timeout"), "0");
}

// What the timeout is for: a statement waiting for a row another session
// keeps locked gives up, and the connection stays usable.
TEST_F(ReconnectingSessionTest, AStatementWaitingForALockGivesUpAndTheConnectionStays) {
    db::ReconnectingSession session(url(), {}, "scheduler", std::chrono::milliseconds(300));
    pqxx::connection holder(url());
    pqxx::work lock(holder);
    lock.exec("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE");
    try {
        pqxx::read_transaction tx(session->conn());
        tx.exec("SELECT count(*) FROM jobs");
        FAIL() << "the statement did not give up";
    } catch (const pqxx::sql_error& e) {
        EXPECT_EQ(e.sqlstate(), "57014");
    }
    lock.abort();
    EXPECT_EQ(setting(session, "statement_timeout"), "300ms");
}
