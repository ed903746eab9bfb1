// Statement timeouts on a session and the classification of database errors
// into "unavailable, retry" (503) and "bug" (500).
#include "db/errors.h"

#include <gtest/gtest.h>

#include "db/session.h"
#include "pg_fixture.h"

using namespace enconvert;

namespace {
class DbErrorsTest : public test_support::PgTest {};
}  // namespace

TEST_F(DbErrorsTest, StatementStuckBehindALockTimesOutAsUnavailable) {
    pqxx::connection holder(url());
    pqxx::work lock_tx(holder);
    lock_tx.exec("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE");

    db::Session session(url(), {});
    session.set_statement_timeout(std::chrono::milliseconds(200));
    try {
        pqxx::read_transaction tx(session.conn());
        tx.exec("SELECT count(*) FROM jobs");
        FAIL() << "the query was not cancelled";
    } catch (const pqxx::sql_error& e) {
        EXPECT_EQ(e.sqlstate(), "57014");
        EXPECT_TRUE(db::means_unavailable(e));
    }
    // The connection survives a cancelled statement.
    EXPECT_TRUE(session.conn().is_open());
    lock_tx.abort();
    pqxx::read_transaction tx(session.conn());
    EXPECT_EQ(tx.exec("SELECT count(*) FROM jobs")[0][0].as<int>(), 0);
}

TEST_F(DbErrorsTest, ProgrammingErrorsAreNotUnavailable) {
    pqxx::connection c(url());
    try {
        pqxx::nontransaction tx(c);
        tx.exec("SELECT no_such_column FROM jobs");
        FAIL();
    } catch (const pqxx::sql_error& e) {
        EXPECT_FALSE(db::means_unavailable(e));
    }
}
